#!/usr/bin/env bash
# Command (2): install what is missing, build everything once, run every test (unit, CLI,
# end-to-end in headless Chromium). Screenshots of the end-to-end tests land in the folder
# printed at the end.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

"$ROOT/scripts/setup.sh" --browser
cd "$ROOT"

step "Formatting (cargo fmt --check)"
cargo fmt --all --check
elapsed

step "Lints, native (cargo clippy, warnings are errors)"
cargo clippy --release --workspace --all-targets -- -D warnings
elapsed

step "Lints, wasm32 (the viewer and the renderer worker as the browser gets them)"
cargo clippy --release --target wasm32-unknown-unknown -p microscope-app -p microscope-renderer \
    --all-targets -- -D warnings
elapsed

step "Building the site (viewer + renderer worker) with Trunk"
trunk build --release
# The same site for a sub-path (a GitHub Pages project site), for the sub-path test: the wasm
# is reused, only the links Trunk writes change.
trunk build --release --public-url /microscope/sub/ --dist "$CARGO_TARGET_DIR/dist-sub-path"
elapsed

# One cargo invocation builds every test and the CLI they run, so each crate is compiled once
# with one set of features. The viewer (app) is in it for its unit tests of pure helpers (links,
# suggestions, render settings, the layer filter), which run natively; the renderer worker has
# no native tests.
NATIVE=(--release --workspace --exclude microscope-renderer)

step "Building the CLI and every test, then fetching real data (weights, labels, photos; cached)"
cargo test "${NATIVE[@]}" --no-run
export MICROSCOPE_BIN="$CARGO_TARGET_DIR/release/microscope"
"$MICROSCOPE_BIN" fetch all
elapsed

step "Running every test (core, CLI, the viewer's helpers, end-to-end in headless Chromium)"
export MICROSCOPE_SCREENSHOTS="${MICROSCOPE_SCREENSHOTS:-$CARGO_TARGET_DIR/e2e-screenshots}"
# Tests that need the real weights and photos fail, rather than skip, when they are missing.
export MICROSCOPE_REQUIRE_DATA=1
# setup.sh installs Mesa's lavapipe: the GPU code path's tests (cli/tests/device.rs,
# device_stages.rs) run on it and fail, rather than skip, without it.
export MICROSCOPE_REQUIRE_VULKAN=1
# The ONNX zoo test (cli/tests/onnx_zoo.rs) exports torchvision models; here it must run.
export MICROSCOPE_REQUIRE_ZOO=1
cargo test "${NATIVE[@]}"
elapsed

step "Core's tests in the debug profile (integer overflow panics there)"
# Dependencies at opt-level 1 keep the tests fast; overflow checks and debug assertions stay on.
CARGO_PROFILE_DEV_OPT_LEVEL=1 CARGO_PROFILE_DEV_DEBUG=false cargo test -p microscope-core
elapsed

step "Fuzzing every parser briefly (scripts/fuzz.sh; longer runs by hand)"
"$ROOT/scripts/fuzz.sh" "${MICROSCOPE_FUZZ_SECONDS:-20}"
elapsed

step "Done"
echo "    screenshots of the pages the tests visited: $MICROSCOPE_SCREENSHOTS"
