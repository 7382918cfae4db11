#!/usr/bin/env bash
# Runs every fuzz target (fuzz/) for SECONDS each (default 20) with memory limits, from seed
# corpora generated from the test fixtures. A crash, a leak of the limits or a timeout fails
# the run and leaves the input under fuzz/artifacts/<target>/. Needs cargo-fuzz and a nightly
# toolchain; without them it says so and does nothing.
#
#   scripts/fuzz.sh            20 s per target (what scripts/test.sh runs)
#   scripts/fuzz.sh 3600       an hour per target (record long runs in docs/fuzzing.md)
#   FUZZ_TARGETS="onnx pth" scripts/fuzz.sh 600
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

SECONDS_PER_TARGET="${1:-20}"
TARGETS="${FUZZ_TARGETS:-pth safetensors onnx atlas_manifest objective idx}"
# A process over 2 GiB resident, or one allocation over 1.5 GiB (more than any value the
# graph module allows), is a finding. Inputs are capped at 64 KiB and 10 s.
LIMITS=(-rss_limit_mb=2048 -malloc_limit_mb=1536 -max_len=65536 -timeout=10)

if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "    fuzzing skipped: needs cargo-fuzz (cargo install cargo-fuzz) and a nightly toolchain"
  exit 0
fi

cd "$ROOT/fuzz"
FUZZ_TARGET_DIR="$CARGO_TARGET_DIR/fuzz"
CORPUS="$CARGO_TARGET_DIR/fuzz-corpus"
# Seeds are regenerated each run; what the fuzzer found before stays in its corpus folder.
SEEDS="$CARGO_TARGET_DIR/fuzz-seeds"
python3 "$ROOT/scripts/fuzz-seeds.py" "$SEEDS"

# One build for every target: no sanitizer (the project's code has no unsafe), but debug
# assertions, so integer overflow panics.
cargo +nightly fuzz build --sanitizer none --debug-assertions --target-dir "$FUZZ_TARGET_DIR"

for target in $TARGETS; do
  mkdir -p "$CORPUS/$target" "$ROOT/fuzz/artifacts/$target"
  printf '    %-15s ' "$target"
  log="$CARGO_TARGET_DIR/fuzz-$target.log"
  if ! cargo +nightly fuzz run --sanitizer none --debug-assertions --target-dir "$FUZZ_TARGET_DIR" \
    "$target" "$CORPUS/$target" "$SEEDS/$target" -- \
    -max_total_time="$SECONDS_PER_TARGET" "${LIMITS[@]}" >"$log" 2>&1; then
    echo "FAILED"
    tail -n 40 "$log"
    exit 1
  fi
  # libFuzzer's last status line: executions, coverage, corpus size.
  grep -E '^#[0-9]+' "$log" | tail -n 1 || true
done
