#!/usr/bin/env bash
# Command (1): install what is missing, build the viewer and serve it on http://127.0.0.1:8080
# (set PORT to change). Stop with Ctrl-C.
# The viewer is served as soon as the default atlas's first models (EfficientNet-Lite0, the
# fashion-cnn) are built; EfficientNet-Lite1 and Lite2 go on building in the background (log:
# $MICROSCOPE_CACHE/atlas/default-rest.log) and appear on a reload when done: the home page lists
# the models still being built. Ctrl-C stops that build too; the next run resumes it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

"$ROOT/scripts/setup.sh"
"$ROOT/scripts/default-atlas.sh" first

REST_LOG="$MICROSCOPE_CACHE/atlas/default-rest.log"
step "Building the rest of the default atlas in the background (EfficientNet-Lite1, Lite2; log: $REST_LOG)"
# Its own process group, so stopping the server stops it (and only it).
set -m
MICROSCOPE_CLI_BUILT=1 nice -n 10 "$ROOT/scripts/default-atlas.sh" rest >"$REST_LOG" 2>&1 &
rest_pid=$!
set +m
trap 'kill -- -"$rest_pid" 2>/dev/null || true' EXIT

step "Building and serving the viewer with Trunk (first build: ~15 minutes on 2 cores)"
cd "$ROOT"
trunk serve --release --port "${PORT:-8080}"
