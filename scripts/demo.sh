#!/usr/bin/env bash
# Demo: `latch demo` (what `make demo` runs): a throwaway CA made with
# libcrypto, latch serve on a free loopback port, a traced fetch, a resumed
# second fetch, a summary; everything stopped and removed afterwards.
# Usage: bash scripts/demo.sh [path/to/latch]     (default: build/latch)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LATCH=${1:-$ROOT/build/latch}
[ -x "$LATCH" ] || { echo "demo: $LATCH is not an executable (run make first)" >&2; exit 1; }
exec "$LATCH" demo
