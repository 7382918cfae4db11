#!/usr/bin/env bash
# Builds the default atlas once into $MICROSCOPE_CACHE/atlas/default (EfficientNet-Lite0, every
# layer: dataset examples, histograms, top classes, labels and circuits for every unit; channel
# visualizations for the first units of each layer, about 15 minutes on 2 CPU cores in all;
# then the fashion-cnn trained here at its 7 checkpoints, see below).
# A later run skips it when it is complete; an interrupted one resumes where it stopped.
# The viewer finds it at /atlas/ (Trunk.toml links it into the site).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

ATLAS="$MICROSCOPE_CACHE/atlas/default"
if [ -f "$ATLAS/.complete" ]; then
  echo "    default atlas: $ATLAS (complete; delete it to rebuild)"
  exit 0
fi

step "Building the default atlas into $ATLAS (once; resumes if interrupted)"
cd "$ROOT"
cargo build --release --bin microscope
MICROSCOPE="$CARGO_TARGET_DIR/release/microscope"
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
# The weights, for the in-browser renderer (see docs/atlas-format.md, "Model weights").
WEIGHTS="$ATLAS/models/efficientnet-lite0/checkpoints/final/weights.safetensors"
cp "$MICROSCOPE_CACHE/weights/efficientnet-lite0.safetensors" "$WEIGHTS.tmp" && mv "$WEIGHTS.tmp" "$WEIGHTS"
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
