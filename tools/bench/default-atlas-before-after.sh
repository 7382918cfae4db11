#!/usr/bin/env bash
# The first stage of scripts/default-atlas.sh (EfficientNet-Lite0 and the fashion-cnn, every
# layer and unit: examples, classes, circuits, channel visualizations of the first units,
# compaction and verification) run once with each of two `microscope` binaries, one after the
# other on the same machine, each into a fresh atlas; prints the wall time of each and their
# ratio (BENCHMARKS.md, "Atlas build"). The weights, photos and the trained fashion-cnn come
# from the cache, so both runs do the same work.
#   tools/bench/default-atlas-before-after.sh BEFORE_BINARY AFTER_BINARY [SCRATCH_DIR]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [ "$#" -lt 2 ]; then
  echo "usage: $0 BEFORE_BINARY AFTER_BINARY [SCRATCH_DIR]" >&2
  exit 2
fi
SCRATCH="${3:-$(mktemp -d)}"
mkdir -p "$SCRATCH"

declare -A seconds
for label in before after; do
  if [ "$label" = before ]; then binary="$1"; else binary="$2"; fi
  # The script runs "$CARGO_TARGET_DIR/release/microscope" and skips its own cargo build
  # when MICROSCOPE_CLI_BUILT is set.
  mkdir -p "$SCRATCH/$label/target/release"
  ln -sf "$(realpath "$binary")" "$SCRATCH/$label/target/release/microscope"
  rm -rf "$SCRATCH/$label/atlas"
  echo "== $label: $binary (load average $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  started=$SECONDS
  CARGO_TARGET_DIR="$SCRATCH/$label/target" MICROSCOPE_CLI_BUILT=1 \
    MICROSCOPE_ATLAS="$SCRATCH/$label/atlas" \
    "$ROOT/scripts/default-atlas.sh" first >"$SCRATCH/$label.log" 2>&1
  seconds[$label]=$((SECONDS - started))
  echo "   $label: ${seconds[$label]} s (log: $SCRATCH/$label.log)" >&2
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| binary | scripts/default-atlas.sh first, wall time |"
echo "|---|---|"
echo "| before | ${seconds[before]} s |"
echo "| after | ${seconds[after]} s |"
awk -v a="${seconds[after]}" -v b="${seconds[before]}" \
  'BEGIN { printf "\nafter / before: %.2f\n", a / b }'
