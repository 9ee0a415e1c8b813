#!/usr/bin/env bash
# install.package: install the current build into a temporary prefix and
# build programs against it the way adopters do:
#   1. cmake --install BUILD --prefix TMP: the expected files are there;
#   2. every public header compiles on its own, as C and as C++;
#   3. tests/install/consumer/main.c built with pkg-config (latch.pc);
#   4. the same built by a CMake project: find_package(latch) + latch::latch
#      (and latch::latch_static);
#   5. all three handshake with openssl s_server on a free port and print the
#      negotiated version, which must match the server's.
#
# Environment (CTest, cmake/LatchAdopt.cmake): LATCH_BUILD_DIR, LATCH_SOURCE_DIR,
# LATCH_TEST_DATA, LATCH_TEST_WORK.
: "${LATCH_SOURCE_DIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
source "$LATCH_SOURCE_DIR/tests/interop/lib.sh"

[ -n "${LATCH_BUILD_DIR:-}" ] && [ -f "$LATCH_BUILD_DIR/CMakeCache.txt" ] ||
  die "LATCH_BUILD_DIR must be a configured and built latch build directory"
require_tool cmake cc c++ pkg-config openssl
require_pki server-p256
require_files "$PKI/server-p256-leaf.pem" "$PKI/intermediate.pem"
CONSUMER_SRC=$LATCH_SOURCE_DIR/tests/install/consumer
PREFIX=$T/prefix

# run_step NAME CMD...: run a build step, output to $T/NAME.log; sets STEP_RC.
run_step() {
  local name=$1; shift
  STEP_LOG=$T/$name.log
  timeout -k 5 120 "$@" >"$STEP_LOG" 2>&1
  STEP_RC=$?
}

# links_installed EXE: EXE loads liblatch.so.0 from the temporary prefix.
# (ldd to a file first: with pipefail, grep -q closing the pipe early could
# fail the pipeline.)
links_installed() {
  ldd "$1" >"$T/ldd.out" 2>&1 && grep -q "liblatch.so.0 => $LIBDIR/liblatch.so.0" "$T/ldd.out"
}
links_no_liblatch() {
  ldd "$1" >"$T/ldd.out" 2>&1 && ! grep -q liblatch "$T/ldd.out"
}

# ------------------------------------------------------------ 1. install
# cmake --install rewrites BUILD/install_manifest.txt (what `make install`
# installed); keep the user's copy.
manifest=$LATCH_BUILD_DIR/install_manifest.txt
[ -f "$manifest" ] && cp -p "$manifest" "$T/install_manifest.saved"
run_step install cmake --install "$LATCH_BUILD_DIR" --prefix "$PREFIX"
if [ -f "$T/install_manifest.saved" ]; then mv -f "$T/install_manifest.saved" "$manifest"; else rm -f "$manifest"; fi
[ "$STEP_RC" -eq 0 ] || { fail "cmake --install --prefix" "exit $STEP_RC" "$STEP_LOG"; summary; }

PC=$(find "$PREFIX" -name latch.pc -path '*/pkgconfig/*' | head -n1)
LIBDIR=$(dirname "$(dirname "${PC:-$PREFIX/lib/pkgconfig/latch.pc}")")
missing=""
for f in include/latch/latch.h include/latch/net.h include/latch/trace.h bin/latch \
         share/man/man1/latch.1; do
  [ -e "$PREFIX/$f" ] || missing="$missing $f"
done
for f in liblatch.a liblatch.so liblatch.so.0 pkgconfig/latch.pc cmake/latch/latchConfig.cmake \
         cmake/latch/latchConfigVersion.cmake cmake/latch/latchTargets.cmake; do
  [ -e "$LIBDIR/$f" ] || missing="$missing ${LIBDIR#"$PREFIX"/}/$f"
done
if [ -z "$missing" ]; then pass "install tree: headers, liblatch.a, liblatch.so.0, latch.pc, CMake package, latch, man page"
else fail "install tree" "missing:$missing" "$STEP_LOG"; fi

if [ "$(readlink "$LIBDIR/liblatch.so")" = liblatch.so.0 ] &&
   readelf -d "$LIBDIR/liblatch.so.0" >"$T/readelf.out" 2>&1 &&
   grep -q 'SONAME.*\[liblatch\.so\.0\]' "$T/readelf.out"; then
  pass "liblatch.so -> liblatch.so.0 (SONAME liblatch.so.0)"
else
  fail "liblatch.so -> liblatch.so.0 (SONAME liblatch.so.0)" "$(ls -l "$LIBDIR"/liblatch* 2>&1 | tr '\n' ' ')"
fi

run_step cli "$PREFIX/bin/latch" help
if [ "$STEP_RC" -eq 0 ] && grep -q 'usage: latch' "$STEP_LOG"; then pass "installed latch help"
else fail "installed latch help" "exit $STEP_RC" "$STEP_LOG"; fi

# ------------------------------------------------------------ 2. headers
hdr_fail=""
for h in "$PREFIX"/include/latch/*.h; do
  n=$(basename "$h")
  printf '#include <latch/%s>\nint main(void) { return 0; }\n' "$n" >"$T/hdr.c"
  cc -std=c11 -Wall -Wextra -Werror -pedantic -I"$PREFIX/include" -fsyntax-only "$T/hdr.c" \
    >>"$T/headers.log" 2>&1 || hdr_fail="$hdr_fail $n(C)"
  c++ -x c++ -Wall -Wextra -Werror -I"$PREFIX/include" -fsyntax-only "$T/hdr.c" \
    >>"$T/headers.log" 2>&1 || hdr_fail="$hdr_fail $n(C++)"
done
if [ -z "$hdr_fail" ]; then pass "each installed header compiles alone (C11 -pedantic, C++)"
else fail "each installed header compiles alone" "failed:$hdr_fail" "$T/headers.log"; fi

# ------------------------------------------------------------ 3. pkg-config
export PKG_CONFIG_PATH="$LIBDIR/pkgconfig"
pc_version=$(pkg-config --modversion latch 2>"$T/pkg-config.err")
pc_flags=$(pkg-config --cflags --libs latch 2>>"$T/pkg-config.err")
pc_static=$(pkg-config --static --libs latch 2>>"$T/pkg-config.err")
if [ -n "$pc_version" ] && [[ "$pc_flags" == *"-I$PREFIX/include"* ]] &&
   [[ "$pc_flags" == *"-L$LIBDIR"*"-llatch"* ]] && [[ "$pc_static" == *-lcrypto* ]] &&
   [[ "$pc_flags" != *-lcrypto* ]]; then
  pass "pkg-config latch $pc_version: $pc_flags (static adds libcrypto)"
else
  fail "pkg-config latch" "version '$pc_version', flags '$pc_flags', static '$pc_static'" "$T/pkg-config.err"
fi
# shellcheck disable=SC2086  # pkg-config output is a list of words
run_step build-pkgconfig cc -std=c11 -Wall -Wextra -Werror -o "$T/consumer-pkgconfig" \
  "$CONSUMER_SRC/main.c" $pc_flags "-Wl,-rpath,$LIBDIR"
if [ "$STEP_RC" -eq 0 ] && links_installed "$T/consumer-pkgconfig"; then
  pass "consumer built with pkg-config, linked to the installed liblatch.so.0"
else
  fail "consumer built with pkg-config" "exit $STEP_RC" "$STEP_LOG"
fi

# ------------------------------------------------------------ 4. CMake package
run_step cmake-configure cmake -S "$CONSUMER_SRC" -B "$T/consumer-build" -DCMAKE_PREFIX_PATH="$PREFIX" \
  -DCMAKE_C_FLAGS="-Wall -Wextra -Werror"
[ "$STEP_RC" -eq 0 ] && run_step cmake-build cmake --build "$T/consumer-build"
if [ "$STEP_RC" -eq 0 ] && [ -x "$T/consumer-build/consumer" ] && [ -x "$T/consumer-build/consumer_static" ] &&
   links_installed "$T/consumer-build/consumer" && links_no_liblatch "$T/consumer-build/consumer_static"; then
  pass "consumer built with find_package(latch): latch::latch (shared) and latch::latch_static"
else
  fail "consumer built with find_package(latch)" "exit $STEP_RC" "$STEP_LOG"
fi

# ------------------------------------------------------------ 5. handshakes
for v in 1.3 1.2; do
  if ! start_peer "s_server-$v" -- openssl s_server -accept "127.0.0.1:@PORT@" \
         -cert "$PKI/server-p256-leaf.pem" -cert_chain "$PKI/intermediate.pem" \
         -key "$PKI/server-p256-key.pem" -www "-tls${v/./_}"; then
    fail "openssl s_server TLS $v" "did not start" "$PEER_LOG"
    continue
  fi
  for prog in consumer-pkgconfig consumer-build/consumer consumer-build/consumer_static; do
    name="${prog##*/} ($([ "$prog" = consumer-pkgconfig ] && echo pkg-config || echo find_package)) vs openssl s_server TLS $v"
    if [ ! -x "$T/$prog" ]; then fail "$name" "not built"; continue; fi
    run_client "$(echo "$prog-$v" | tr / _)" /dev/null "$T/$prog" localhost "$PEER_PORT" "$PKI/ca.pem"
    if [ "$CLIENT_RC" -eq 0 ] && matches "$CLIENT_OUT" "^consumer: TLSv$v TLS_[A-Z0-9_]+ [a-z0-9]+$"; then
      pass "$name: $(cat "$CLIENT_OUT")"
    else
      fail "$name" "exit $CLIENT_RC" "$CLIENT_OUT" "$CLIENT_ERR" "$PEER_LOG"
    fi
  done
  stop_peer "$PEER_PID"
done

summary
