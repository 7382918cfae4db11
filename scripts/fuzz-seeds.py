#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target into OUT/<target>/, from the project's test
fixtures (and a few files made here with the standard library only), so that no corpus is
committed. Usage: scripts/fuzz-seeds.py OUT"""

import json
import pathlib
import shutil
import struct
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def put(out, target, name, data):
    folder = out / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def safetensors(tensors):
    """A safetensors file of float32 tensors: {name: (shape, values)}."""
    header, data = {}, b""
    for name, (shape, values) in tensors.items():
        blob = struct.pack(f"<{len(values)}f", *values)
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [len(data), len(data) + len(blob)]}
        data += blob
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(text)) + text + data


def idx(dims, payload):
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + payload


def main():
    out = pathlib.Path(sys.argv[1])
    if out.exists():
        shutil.rmtree(out)
    put(out, "pth", "mixed_legacy.pt", (ROOT / "core/src/weights/testdata/mixed_legacy.pt.bin").read_bytes())
    put(out, "onnx", "ort_cnn.onnx", (ROOT / "core/tests/fixtures/ort_cnn.onnx").read_bytes())
    for path in sorted((ROOT / "core/tests/fixtures/atlas").rglob("*.json")):
        name = "_".join(path.relative_to(ROOT / "core/tests/fixtures/atlas").parts)
        put(out, "atlas_manifest", name, path.read_bytes())
    put(out, "safetensors", "two.safetensors",
        safetensors({"conv.weight": ([2, 1, 2, 2], [0.5 * i for i in range(8)]), "conv.bias": ([2], [1.0, -1.0])}))
    put(out, "safetensors", "scalar.safetensors", safetensors({"step": ([], [3.0])}))
    put(out, "idx", "labels.idx", idx([5], bytes([0, 1, 2, 9, 4])))
    put(out, "idx", "images.idx", idx([2, 3, 3], bytes(range(18))))
    objectives = [
        "blocks.8:50",
        "blocks.8:50 + 0.5 * blocks.8:12 - tv(0.1)",
        "neuron(blocks.8:50, 3, 4)",
        "dream(blocks.8)",
        "class(967)",
        "blocks.8:50 + diversity(blocks.8, 0.01)",
        "-blocks.8:50",
        "direction(blocks.8, [1, -0.5, 2], cos) @1",
        "caricature(blocks.4, 2) + invert(stem)",
        '"odd \\"layer\\"":3 * -2 + l1() + l2(0.5)',
        "((channel(head:1)))",
    ]
    # Nesting at the grammar's depth limit (MAX_DEPTH = 64 in core/src/objective/grammar.rs) and
    # far past it: the parser must refuse the second with an error, never by overflowing its stack.
    for depth in (20, 64, 20_000):
        objectives.append("(" * depth + "blocks.8:50" + ")" * depth)
    objectives.append("-" * 20_000 + "blocks.8:50")
    objectives.append(" + ".join(["2 * (blocks.8:1 - tv(0.1))"] * 200))
    for i, text in enumerate(objectives):
        put(out, "objective", f"example-{i}.txt", text.encode())


if __name__ == "__main__":
    main()
