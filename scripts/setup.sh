#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks to build and run Microscope, skipping anything
# already at the right version. Only the package registries are used (crates.io, Debian, PyPI).
#
#   scripts/setup.sh              toolchain for building and serving the viewer
#   scripts/setup.sh --browser    also headless Chromium and ChromeDriver, for the tests
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

want_browser=0
for arg in "$@"; do
  case "$arg" in
    --browser) want_browser=1 ;;
    *) echo "unknown option: $arg" >&2; exit 2 ;;
  esac
done

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# Tools built from crates.io are build tools, not shipped code: build them quickly (no LTO,
# parallel codegen) and outside our target dir.
install_tool() {
  env -u CARGO_TARGET_DIR \
    CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_DEBUG=false \
    cargo install "$@"
}

step "Rust target wasm32-unknown-unknown"
if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  echo "    present"
else
  rustup target add wasm32-unknown-unknown
fi

step "trunk $TRUNK_VERSION"
if [ "$(trunk --version 2>/dev/null)" = "trunk $TRUNK_VERSION" ]; then
  echo "    present"
else
  echo "    building from crates.io (several minutes on 2 cores)"
  install_tool --locked --force "trunk@$TRUNK_VERSION"
fi

step "wasm-bindgen-cli $WASM_BINDGEN_VERSION"
if [ "$(wasm-bindgen --version 2>/dev/null)" = "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  echo "    present"
else
  echo "    building from crates.io (a few minutes on 2 cores)"
  # Not --locked: the CLI's own lockfile pins a crate version the registry no longer serves.
  install_tool --force "wasm-bindgen-cli@$WASM_BINDGEN_VERSION"
fi

step "cargo-fuzz (for scripts/fuzz.sh; needs the nightly toolchain)"
if cargo fuzz --version >/dev/null 2>&1; then
  echo "    present"
elif rustup toolchain list | grep -q '^nightly'; then
  echo "    building from crates.io (a few minutes on 2 cores)"
  install_tool --locked cargo-fuzz || echo "    cargo-fuzz did not build: fuzzing will be skipped"
else
  echo "    no nightly toolchain: fuzzing will be skipped"
fi

if [ "$want_browser" -eq 1 ]; then
  step "Chromium and ChromeDriver (Debian packages)"
  if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
    echo "    present: $(chromium --version 2>/dev/null | head -n1)"
  else
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver
  fi
fi

step "Fashion-MNIST (Debian package dataset-fashion-mnist, for microscope train)"
if [ -e /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
  echo "    present"
else
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q dataset-fashion-mnist
fi

step "PyTorch and torchvision (Debian python3-torchvision), to export the ONNX zoo the import tests read"
if /usr/bin/python3 -c 'import torch, torchvision' >/dev/null 2>&1; then
  echo "    present"
else
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    python3-torchvision
fi

step "Vulkan loader and Mesa's software Vulkan (lavapipe), for the CLI's GPU code path in tests"
if dpkg -s libvulkan1 mesa-vulkan-drivers >/dev/null 2>&1; then
  echo "    present"
else
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    libvulkan1 mesa-vulkan-drivers
fi

step "Rust dependencies (fetched once so Trunk can build offline)"
(cd "$ROOT" && cargo fetch --locked)
elapsed
