# Shared settings for the project's scripts (sourced, not run).
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export MICROSCOPE_CACHE="${MICROSCOPE_CACHE:-$HOME/.cache/microscope}"
# Build outputs live outside the clone so a fresh clone reuses them when they exist.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$MICROSCOPE_CACHE/target}"
export PATH="$HOME/.cargo/bin:$PATH"
# Mesa's Vulkan device-select layer looks for a Wayland display when the CLI lists GPUs and
# prints "XDG_RUNTIME_DIR is invalid" on a headless machine; it only orders devices.
export NODEVICE_SELECT="${NODEVICE_SELECT:-1}"

TRUNK_VERSION="0.21.14"
# Must equal the `wasm-bindgen = "=..."` pin in Cargo.toml and `[tools]` in Trunk.toml.
WASM_BINDGEN_VERSION="0.2.130"

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
elapsed() { printf '    (%ds since start)\n' "$SECONDS"; }
