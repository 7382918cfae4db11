#!/usr/bin/env python3
"""Exports a zoo of torchvision architectures (random weights) to ONNX, for import tests.

Usage: onnx-zoo.py OUT_DIR [--size PX] [--opsets 11,17] [--models a,b,...] [--dynamic]

Writes OUT_DIR/<model>-op<opset>.onnx for each model and opset, and OUT_DIR/zoo.json listing
them. With --dynamic the input's batch, height and width are declared symbolic (the way
`dynamic_axes` exports are published), and the files are named <model>-op<opset>-dynamic.onnx. Weights are random (torchvision's pretrained weights need a download): the files test
operator coverage, not accuracy. Needs /usr/bin/python3 with torch and torchvision (Debian's
python3-torch and python3-torchvision).
"""

import argparse
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


class TinyUNet(nn.Module):
    """A small U-Net: two downsamplings, a transposed-convolution and a nearest upsampling
    on the way back, skip connections by concatenation, and two outputs (a segmentation
    map and a pooled embedding)."""

    def __init__(self, classes=3):
        super().__init__()

        def block(cin, cout):
            return nn.Sequential(
                nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                nn.Conv2d(cout, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
            )

        self.enc1 = block(3, 16)
        self.enc2 = block(16, 32)
        self.bottom = block(32, 64)
        self.up2 = nn.ConvTranspose2d(64, 32, 2, stride=2)
        self.dec2 = block(64, 32)
        self.dec1 = block(32 + 16, 16)
        self.head = nn.Conv2d(16, classes, 1)

    def forward(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(F.max_pool2d(e1, 2))
        b = self.bottom(F.max_pool2d(e2, 2))
        d2 = self.dec2(torch.cat([self.up2(b), e2], dim=1))
        d1 = self.dec1(torch.cat([F.interpolate(d2, scale_factor=2.0, mode="nearest"), e1], dim=1))
        return self.head(d1), torch.flatten(F.adaptive_avg_pool2d(b, 1), 1)


class TinyFPN(nn.Module):
    """A small feature pyramid: a strided backbone, lateral 1x1 convolutions, top-down
    nearest upsampling to the lateral's size, and one output map per level."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1), nn.ReLU())
        self.c2 = nn.Sequential(nn.Conv2d(16, 32, 3, 2, 1), nn.ReLU())
        self.c3 = nn.Sequential(nn.Conv2d(32, 64, 3, 2, 1), nn.ReLU())
        self.l1 = nn.Conv2d(16, 24, 1)
        self.l2 = nn.Conv2d(32, 24, 1)
        self.l3 = nn.Conv2d(64, 24, 1)
        self.out = nn.Conv2d(24, 24, 3, padding=1)

    def forward(self, x):
        c1 = self.c1(x)
        c2 = self.c2(c1)
        c3 = self.c3(c2)
        p3 = self.l3(c3)
        p2 = self.l2(c2) + F.interpolate(p3, size=c2.shape[-2:], mode="nearest")
        p1 = self.l1(c1) + F.interpolate(p2, size=c1.shape[-2:], mode="nearest")
        return self.out(p1), self.out(p2), self.out(p3)


# Models whose architecture fixes a larger input: VGG's adaptive pool to 7x7 exports only
# where the feature map is a multiple of 7 (224 px).
MIN_SIZE = {"vgg11": 224}


class TinyHeads(nn.Module):
    """Exercises what exporters write for pooled heads and gated blocks outside torchvision:
    LeakyReLU, reductions over the spatial axes (mean without keepdim, amax with it),
    ConvTranspose with output padding, Unsqueeze/Squeeze around a 1-d tensor, and several
    outputs (a map and two vectors)."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, 2, 1)
        self.act = nn.LeakyReLU(0.1)
        self.mid = nn.Conv2d(16, 32, 3, 2, 1)
        self.gate = nn.Conv2d(32, 32, 1)
        self.up = nn.ConvTranspose2d(32, 8, 3, stride=2, padding=1, output_padding=1)

    def forward(self, x):
        x = self.act(self.stem(x))
        y = F.hardswish(self.mid(x))
        g = torch.sigmoid(self.gate(y.amax(dim=(2, 3), keepdim=True)))
        y = y * g
        pooled = y.mean(dim=(2, 3))
        scores = pooled.unsqueeze(-1).squeeze(-1) * 2.0
        return self.up(y), pooled, scores


class ChannelsFirstLayerNorm(nn.Module):
    """Layer norm over the channels of NCHW, written as ConvNeXt's reference code writes it
    (mean and variance over dim 1), which exporters write as ReduceMean, Sub, Pow, Sqrt, Div."""

    def __init__(self, channels, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels) + 0.1 * torch.randn(channels))
        self.bias = nn.Parameter(0.1 * torch.randn(channels))
        self.eps = eps

    def forward(self, x):
        u = x.mean(1, keepdim=True)
        s = (x - u).pow(2).mean(1, keepdim=True)
        x = (x - u) / torch.sqrt(s + self.eps)
        return self.weight[:, None, None] * x + self.bias[:, None, None]


class TinyConvNeXt(nn.Module):
    """ConvNeXt-style blocks in channels-first form: a 4x4 stride-4 patchify stem, 7x7
    depthwise convolutions, channel layer norms, an inverted bottleneck with GELU (Erf), layer
    scale and residuals, and a downsampling layer; a linear head."""

    def __init__(self, classes=10):
        super().__init__()

        class Block(nn.Module):
            def __init__(self, dim):
                super().__init__()
                self.dw = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
                self.norm = ChannelsFirstLayerNorm(dim)
                self.up = nn.Conv2d(dim, 4 * dim, 1)
                self.down = nn.Conv2d(4 * dim, dim, 1)
                self.gamma = nn.Parameter(0.5 * torch.ones(dim, 1, 1))

            def forward(self, x):
                y = self.down(F.gelu(self.up(self.norm(self.dw(x)))))
                return x + self.gamma * y

        self.stem = nn.Sequential(nn.Conv2d(3, 24, 4, stride=4), ChannelsFirstLayerNorm(24))
        self.stage1 = Block(24)
        self.downsample = nn.Sequential(ChannelsFirstLayerNorm(24), nn.Conv2d(24, 48, 2, stride=2))
        self.stage2 = Block(48)
        self.head = nn.Linear(48, classes)

    def forward(self, x):
        x = self.stage2(self.downsample(self.stage1(self.stem(x))))
        return self.head(x.mean(dim=(2, 3)))


class TinyStyle(nn.Module):
    """What style-transfer, GAN and detector backbones export: instance and group
    normalisation, ELU, SELU, Softplus and Mish, and a channel split (torch.chunk) into two
    branches joined again."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 16, 3, padding=1)
        self.in1 = nn.InstanceNorm2d(16, affine=True)
        self.c2 = nn.Conv2d(16, 32, 3, stride=2, padding=1)
        self.gn = nn.GroupNorm(4, 32)
        self.left = nn.Conv2d(16, 16, 3, padding=1)
        self.right = nn.Conv2d(16, 16, 1)
        self.c3 = nn.Conv2d(32, 32, 3, stride=2, padding=1)

    def forward(self, x):
        x = F.elu(self.in1(self.c1(x)))
        x = F.selu(self.gn(self.c2(x)))
        a, b = torch.chunk(x, 2, dim=1)
        x = torch.cat([F.softplus(self.left(a)), F.mish(self.right(b))], dim=1)
        return self.c3(x)


def builders():
    tv = torchvision.models
    return {
        "mobilenet_v2": lambda: tv.mobilenet_v2(weights=None),
        "mobilenet_v3_small": lambda: tv.mobilenet_v3_small(weights=None),
        "mobilenet_v3_large": lambda: tv.mobilenet_v3_large(weights=None),
        "resnet18": lambda: tv.resnet18(weights=None),
        "resnet50": lambda: tv.resnet50(weights=None),
        "efficientnet_b0": lambda: tv.efficientnet_b0(weights=None),
        "vgg11": lambda: tv.vgg11(weights=None),
        "densenet121": lambda: tv.densenet121(weights=None),
        "regnet_x_400mf": lambda: tv.regnet_x_400mf(weights=None),
        "tiny_unet": TinyUNet,
        "tiny_fpn": TinyFPN,
        "tiny_heads": TinyHeads,
        "tiny_convnext": TinyConvNeXt,
        "tiny_style": TinyStyle,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--opsets", default="11,17")
    parser.add_argument("--models", default="")
    parser.add_argument("--dynamic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    available = builders()
    names = [m for m in args.models.split(",") if m] or list(available)
    unknown = [m for m in names if m not in available]
    if unknown:
        sys.exit(f"unknown models: {', '.join(unknown)}")
    os.makedirs(args.out, exist_ok=True)
    written = []
    for name in names:
        model = available[name]().eval()
        size = max(args.size, MIN_SIZE.get(name, 0))
        x = torch.rand(1, 3, size, size)
        with torch.no_grad():
            outputs = model(x)
        count = len(outputs) if isinstance(outputs, tuple) else 1
        for opset in [int(o) for o in args.opsets.split(",") if o]:
            suffix = "-dynamic" if args.dynamic else ""
            path = os.path.join(args.out, f"{name}-op{opset}{suffix}.onnx")
            output_names = [f"output{i}" for i in range(count)]
            dynamic_axes = {"input": {0: "N", 2: "H", 3: "W"}} if args.dynamic else None
            torch.onnx.export(
                model, x, path, opset_version=opset,
                input_names=["input"],
                output_names=output_names,
                dynamic_axes=dynamic_axes,
                do_constant_folding=True,
            )
            written.append({"model": name, "opset": opset, "file": os.path.basename(path),
                            "size_px": size, "outputs": count})
            print(f"wrote {path}", flush=True)
    with open(os.path.join(args.out, "zoo.json"), "w") as f:
        json.dump(written, f, indent=1)


if __name__ == "__main__":
    main()
