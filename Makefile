# Human entry points; CMake does the building underneath.
BUILD ?= build
JOBS  ?= 2

.PHONY: all deps configure test demo clean

all: configure
	cmake --build $(BUILD) -j$(JOBS)
	@ln -sf latch $(BUILD)/latch-bin 2>/dev/null || true

deps:
	@bash scripts/install-deps.sh

configure: deps
	@test -f $(BUILD)/CMakeCache.txt || cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

test: all
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

# latch demo: throwaway CA, latch serve on a free loopback port, two traced
# fetches (the second resumed), a summary; everything removed afterwards.
demo: all
	$(BUILD)/latch demo

clean:
	rm -rf $(BUILD)

# Fuzzing: the libFuzzer harnesses of fuzz/ built with clang in build-fuzz/,
# each run FUZZ_SECONDS (fuzz/run.sh; crashes go to fuzz/crashes/).
FUZZ_SECONDS ?= 60
.PHONY: fuzz
fuzz: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) JOBS=$(JOBS) bash fuzz/run.sh

# Install (cmake/LatchAdopt.cmake): headers, liblatch.a, liblatch.so.0, latch.pc,
# the CMake package (find_package(latch)), bin/latch, the man page.
# PREFIX honoured (default /usr/local), DESTDIR too (staged installs).
PREFIX ?= /usr/local
.PHONY: install docs
install: all
	DESTDIR=$(DESTDIR) cmake --install $(BUILD) --prefix $(PREFIX)

# API reference (doxygen, docs/Doxyfile) in $(BUILD)/docs/html; fails on any
# undocumented public symbol.  Installs doxygen if missing (only here).
docs:
	@bash scripts/install-deps.sh docs
	@for h in include/latch/*.h; do grep -q '@file' $$h || \
	  { echo "$$h: no @file doc comment (doxygen would skip its functions)"; exit 1; }; done
	@mkdir -p $(BUILD)/docs
	LATCH_DOCS_OUT=$(abspath $(BUILD))/docs doxygen docs/Doxyfile

# Benchmarks: latch vs OpenSSL libssl, nginx and curl in one run (bench/run.sh;
# QUICK=1 for a ~2-minute run).  Installs nginx and wrk when missing.
.PHONY: bench
bench: all
	@bash bench/install-tools.sh
	QUICK=$(QUICK) bash bench/run.sh $(BUILD)
