#!/usr/bin/env bash
# The CPU feature-visualization step of Microscope beside PyTorch's, interleaved in one run
# (BENCHMARKS.md, "The native step against PyTorch"): for each round, each thread count and each
# batch size, Microscope then PyTorch, on EfficientNet-Lite0 to blocks.8 at 128 px with the whole
# batch per pass; the table keeps each cell's minimum over the rounds and the ratio.
#   tools/bench/cpu-side-by-side.sh [MICROSCOPE_BINARY] [ROUNDS]
# Set BEFORE=path/to/another/microscope to add an older build as a third column.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
MICROSCOPE="${1:-${CARGO_TARGET_DIR:-$HOME/.cache/microscope/target}/release/microscope}"
ROUNDS="${2:-3}"
BEFORE="${BEFORE:-}"
PYTHON="${PYTHON:-/usr/bin/python3}"
LOG="$(mktemp)"
trap 'rm -f "$LOG"' EXIT

steps_for() { if [ "$1" = 1 ]; then echo 10; else echo 3; fi; }
# The per-unit figure: the last "ms/step" of the line.
per_unit() { grep -o '[0-9.]* ms/step per unit' | tail -1 | cut -d' ' -f1; }

run_ours() { # binary threads batch
  RAYON_NUM_THREADS="$2" "$1" --device cpu render-bench --size 128 --micro-batches 0 \
    --batches "$3" --steps "$(steps_for "$3")" --warmup 1 2>>"$LOG" | per_unit
}
run_torch() { # threads batch
  "$PYTHON" "$ROOT/tools/bench/fv_torch.py" --batches "$2" --steps "$(steps_for "$2")" \
    --warmup 1 --threads "$1" 2>>"$LOG" | per_unit
}

declare -A best
keep() { # key value
  local old="${best[$1]:-}"
  if [ -z "$old" ] || awk -v a="$2" -v b="$old" 'BEGIN { exit !(a < b) }'; then best[$1]="$2"; fi
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$ROUNDS"); do
  for threads in 2 1; do
    for batch in 1 16; do
      if [ -n "$BEFORE" ]; then keep "before $threads $batch" "$(run_ours "$BEFORE" "$threads" "$batch")"; fi
      keep "ours $threads $batch" "$(run_ours "$MICROSCOPE" "$threads" "$batch")"
      keep "torch $threads $batch" "$(run_torch "$threads" "$batch")"
      echo "round $round, $threads threads, batch $batch: ours ${best[ours $threads $batch]}, pytorch ${best[torch $threads $batch]} (best so far)" >&2
    done
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
if [ -n "$BEFORE" ]; then
  echo "| threads | batch | before | Microscope | PyTorch | Microscope / PyTorch |"
  echo "|---|---|---|---|---|---|"
else
  echo "| threads | batch | Microscope | PyTorch | Microscope / PyTorch |"
  echo "|---|---|---|---|---|"
fi
for threads in 2 1; do
  for batch in 1 16; do
    ours="${best[ours $threads $batch]}"; torch="${best[torch $threads $batch]}"
    ratio=$(awk -v a="$ours" -v b="$torch" 'BEGIN { printf "%.2f", a / b }')
    if [ -n "$BEFORE" ]; then
      echo "| $threads | $batch | ${best[before $threads $batch]} | $ours | $torch | $ratio |"
    else
      echo "| $threads | $batch | $ours | $torch | $ratio |"
    fi
  done
done
echo "(ms per step, per unit at batch 16; minimum of $ROUNDS rounds; ratio < 1: Microscope faster)"
