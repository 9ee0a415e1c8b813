#!/usr/bin/env bash
# Installs the Debian packages latch needs, only when something is missing.
set -eu
need=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
# Default: what make / make test need (libevent-dev: examples/libevent_server.c;
# python3, nginx and chromium: the HTTP tests, tests/interop/test_http_*.sh,
# test_proxy.sh, test_browser.sh, which never skip).
# `install-deps.sh docs` (make docs): only the documentation tools, so
# `make test` never pulls doxygen.
build_packages() { echo build-essential cmake pkg-config libssl-dev openssl gnutls-bin curl clang tshark valgrind libevent-dev python3 nginx chromium; }
docs_packages() { echo doxygen; }
if [ "${1:-}" = docs ]; then wanted=$(docs_packages); else wanted=$(build_packages); fi
for p in $wanted; do
  have_pkg "$p" || need+=("$p")
done
[ ${#need[@]} -eq 0 ] && exit 0
echo "install-deps: installing ${need[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# tshark (wireshark-common) asks whether non-root users may capture: answer
# no up front so the install never stops at a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
