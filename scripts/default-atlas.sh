#!/usr/bin/env bash
# Builds the default atlas into $MICROSCOPE_CACHE/atlas/default (or $MICROSCOPE_ATLAS), in two
# stages, each skipped when complete and resumed where it stopped when interrupted:
#   first  EfficientNet-Lite0 (every layer: dataset examples, histograms, top classes, labels
#          and circuits for every unit; channel visualizations for the first units of each
#          layer; about 15 minutes on 2 CPU cores), then the fashion-cnn trained here at its 7
#          checkpoints (see below); compacted and verified. Marks the atlas `.complete`.
#   rest   EfficientNet-Lite1 and Lite2 into the same atlas, with the same content and policy as
#          Lite0 (roughly 30-60 minutes each); compacted and verified. Marks it `.complete-all`.
#          Each model is listed in atlas.json as being built until its build finishes.
#   all    both (the default).
# scripts/run.sh serves the viewer after `first` and runs `rest` in the background. The viewer
# finds the atlas at /atlas/ (Trunk.toml links it into the site), so a reload shows each model
# as it is finished.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

STAGE="${1:-all}"
case "$STAGE" in
  first | rest | all) ;;
  *) echo "usage: $0 [first|rest|all]" >&2; exit 2 ;;
esac
ATLAS="${MICROSCOPE_ATLAS:-$MICROSCOPE_CACHE/atlas/default}"

cd "$ROOT"
# run.sh's background stage skips this: the first stage built it, and a second cargo would
# wait for the lock of the viewer's build.
if [ -z "${MICROSCOPE_CLI_BUILT:-}" ]; then
  cargo build --release --bin microscope
fi
MICROSCOPE="$CARGO_TARGET_DIR/release/microscope"

# The weights of a fetched model, for the in-browser renderer (docs/atlas-format.md, "Model
# weights"), through a temporary name.
copy_weights() {
  local weights="$ATLAS/models/$1/checkpoints/final/weights.safetensors"
  cp "$MICROSCOPE_CACHE/weights/$1.safetensors" "$weights.tmp" && mv "$weights.tmp" "$weights"
}

# EfficientNet-Lite0 and the fashion-cnn.
first_stage() {
if [ -f "$ATLAS/.complete" ]; then
  echo "    default atlas, first stage: $ATLAS (complete; delete it to rebuild)"
  return 0
fi
step "Building the default atlas into $ATLAS: EfficientNet-Lite0 and the fashion-cnn (once; resumes if interrupted)"
"$MICROSCOPE" fetch efficientnet-lite0
"$MICROSCOPE" build --model efficientnet-lite0 --layers all --units all \
  --techniques channel,examples,classes,circuits \
  --fv-units "${MICROSCOPE_ATLAS_FV_UNITS:-0}" --steps 48 --size 64 --fv-batch 8 \
  --corpus full --crop-scales 1,0.5 --out "$ATLAS"
"$MICROSCOPE" verify --fast "$ATLAS"
# The build goes on without a wallpaper package it cannot fetch; the default atlas must not.
PHOTOS=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["photos"]))' \
  "$ATLAS/photos/photos.json")
if [ "$PHOTOS" -lt 40 ]; then
  echo "error: the default atlas has only $PHOTOS photographs (expected 44): a Debian wallpaper" >&2
  echo "       package could not be fetched or unpacked (see the warnings above). Fix that, delete" >&2
  echo "       $ATLAS and run this again." >&2
  exit 1
fi
copy_weights efficientnet-lite0
# The fashion-cnn trained here, at every checkpoint of its run, into the same atlas (atlas.json
# gains the model, photos.json the labelled test images): trains first if it is not trained
# (about 3 minutes; a finished run is reused), then builds every unit of its five main layers
# with examples from 2,000 test images and channel visualizations of units 0-7 at each of the 7
# checkpoints, with each checkpoint's weights for the in-browser renderer.
"$MICROSCOPE" train --model fashion-cnn --seed 0 --steps 3000 --batch 64 --lr 0.001 --quiet
"$MICROSCOPE" build --model fashion-cnn --checkpoints all \
  --layers conv1,conv2,conv3,fc,logits --units all \
  --techniques channel,examples,classes,circuits \
  --fv-units "${MICROSCOPE_ATLAS_FASHION_FV_UNITS:-0-7}" --steps 64 \
  --corpus fashion-mnist --corpus-limit 2000 --quiet --out "$ATLAS"
# Small enough to host: the weights as float16 for the renderer, recorded in model.json (and the
# example sheets of an atlas built before format 1.1 as JPEG). See BENCHMARKS.md, "Atlas size".
"$MICROSCOPE" compact "$ATLAS"
"$MICROSCOPE" verify --fast "$ATLAS"
touch "$ATLAS/.complete"
elapsed
}

# EfficientNet-Lite1 and Lite2, with Lite0's content and visualization policy.
rest_stage() {
if [ -f "$ATLAS/.complete-all" ]; then
  echo "    default atlas, every model: $ATLAS (complete)"
  return 0
fi
if [ ! -f "$ATLAS/.complete" ]; then
  echo "error: $ATLAS lacks its first stage (EfficientNet-Lite0, the fashion-cnn): run $0 first" >&2
  exit 1
fi
step "Adding EfficientNet-Lite1 and Lite2 to the default atlas $ATLAS (resumes if interrupted)"
for model in efficientnet-lite1 efficientnet-lite2; do
  local started=$SECONDS
  "$MICROSCOPE" fetch "$model"
  "$MICROSCOPE" build --model "$model" --layers all --units all \
    --techniques channel,examples,classes,circuits \
    --fv-units "${MICROSCOPE_ATLAS_FV_UNITS:-0}" --steps 48 --size 64 --fv-batch 8 \
    --corpus full --crop-scales 1,0.5 --quiet --out "$ATLAS"
  copy_weights "$model"
  echo "    $model built in $((SECONDS - started)) s"
done
"$MICROSCOPE" compact "$ATLAS"
"$MICROSCOPE" verify --fast "$ATLAS"
touch "$ATLAS/.complete-all"
elapsed
}

case "$STAGE" in
  first) first_stage ;;
  rest) rest_stage ;;
  all) first_stage && rest_stage ;;
esac
