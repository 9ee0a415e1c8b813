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

demo: all
	@bash scripts/demo.sh $(BUILD)/latch

clean:
	rm -rf $(BUILD)
