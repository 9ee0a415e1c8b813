#!/usr/bin/env bash
# What `make bench` needs besides the build: nginx (Debian, for the HTTPS
# comparison), wrk (load generator), curl; installed only when missing.
set -eu
need=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v wrk >/dev/null || need+=(wrk)
command -v curl >/dev/null || need+=(curl)
command -v taskset >/dev/null || need+=(util-linux)
[ ${#need[@]} -eq 0 ] && exit 0
echo "bench: installing ${need[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# nginx-light is Debian 12's small build; later releases only ship nginx
if ! $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"; then
  need=("${need[@]/nginx-light/nginx}")
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
