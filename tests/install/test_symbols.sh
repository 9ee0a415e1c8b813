#!/usr/bin/env bash
# Symbol hygiene of the shared library (CTest install.symbols):
#   usage: test_symbols.sh LIBLATCH_SO [PUBLIC_HEADER_DIR]
#
#   * every dynamic symbol liblatch.so defines starts with latch_ (the
#     version script cmake/latch.map); linker-made ones (_init, _fini,
#     _edata, _end, __bss_start) are allowed;
#   * the SONAME is liblatch.so.0;
#   * with PUBLIC_HEADER_DIR: every function declared in include/latch/*.h
#     is exported (a missing one would be a link error for embedders).
# Exported latch_* symbols not declared in a public header are listed (a
# note, not a failure: they are internal helpers other code may link to).
set -u
lib=${1:?usage: test_symbols.sh LIBLATCH_SO [PUBLIC_HEADER_DIR]}
headers=${2:-}
pass=0 failed=0
ok() { pass=$((pass + 1)); echo "PASS  $1"; }
bad() { failed=$((failed + 1)); echo "FAIL  $1"; }

command -v nm >/dev/null || { echo "FATAL: nm not found (binutils)" >&2; exit 1; }
[ -r "$lib" ] || { echo "FATAL: $lib not readable" >&2; exit 1; }

exported=$(nm -D --defined-only "$lib" | awk 'NF >= 3 {print $3}' | sed 's/@.*//' | sort -u)
[ -n "$exported" ] || { echo "FATAL: nm found no dynamic symbols in $lib" >&2; exit 1; }

stray=$(printf '%s\n' "$exported" | grep -v '^latch_' |
        grep -vxE '_init|_fini|_edata|_end|__bss_start|_DYNAMIC|_GLOBAL_OFFSET_TABLE_')
if [ -z "$stray" ]; then
  ok "only latch_* exported ($(printf '%s\n' "$exported" | grep -c '^latch_') symbols)"
else
  bad "symbols exported that do not start with latch_:"
  printf '%s\n' "$stray" | sed 's/^/      /' | head -40
fi

soname=$(readelf -d "$lib" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
if [ "$soname" = liblatch.so.0 ]; then ok "SONAME liblatch.so.0"; else bad "SONAME is '$soname', want liblatch.so.0"; fi

if [ -n "$headers" ]; then
  # Function declarations: an identifier latch_* directly followed by '('
  # (a function pointer typedef "(*latch_x_fn)(" has a ')' in between).
  declared=$(cat "$headers"/*.h | sed 's://.*$::' |
             grep -oE '(^|[^[:alnum:]_])latch_[a-z0-9_]+[[:space:]]*\(' |
             grep -oE 'latch_[a-z0-9_]+' | sort -u)
  missing=$(comm -23 <(printf '%s\n' "$declared") <(printf '%s\n' "$exported"))
  if [ -z "$missing" ]; then
    ok "all $(printf '%s\n' "$declared" | grep -c .) public functions exported"
  else
    bad "declared in $headers but not exported:"
    printf '%s\n' "$missing" | sed 's/^/      /'
  fi
  internal=$(comm -13 <(printf '%s\n' "$declared") <(printf '%s\n' "$exported" | grep '^latch_'))
  if [ -n "$internal" ]; then
    echo "note: $(printf '%s\n' "$internal" | grep -c .) exported latch_* symbols are not in a public header:"
    printf '%s\n' "$internal" | tr '\n' ' ' | fold -w 100 -s | sed 's/^/      /'
    echo
  fi
fi

echo "----"
echo "$pass passed, $failed failed"
[ "$failed" -eq 0 ]
