#!/usr/bin/env bash
# Command (2): install what is missing, build everything once, run every test (unit, CLI,
# end-to-end in headless Chromium). Screenshots of the end-to-end tests land in the folder
# printed at the end.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

"$ROOT/scripts/setup.sh" --browser
cd "$ROOT"

step "Building the site (viewer + renderer worker) with Trunk"
trunk build --release
elapsed

step "Running every test (core, CLI, end-to-end in headless Chromium)"
export MICROSCOPE_SCREENSHOTS="${MICROSCOPE_SCREENSHOTS:-$CARGO_TARGET_DIR/e2e-screenshots}"
cargo test --release --workspace --exclude microscope-app --exclude microscope-renderer -- --test-threads=1
elapsed

step "Done"
echo "    screenshots of the pages the tests visited: $MICROSCOPE_SCREENSHOTS"
