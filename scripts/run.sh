#!/usr/bin/env bash
# Command (1): install what is missing, build the viewer and serve it on http://127.0.0.1:8080
# (set PORT to change). Stop with Ctrl-C.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

"$ROOT/scripts/setup.sh"
"$ROOT/scripts/default-atlas.sh"

step "Building and serving the viewer with Trunk (first build: ~15 minutes on 2 cores)"
cd "$ROOT"
exec trunk serve --release --port "${PORT:-8080}"
