#!/usr/bin/env python3
"""Known-answer vectors for GgmlBlocksTest: seeded random blocks of each ggml format and their values as decoded by
llama.cpp's gguf-py (its numpy dequantizers follow ggml's float expression order).

Run once (not part of the build): python3 make_vectors.py /path/to/llama.cpp/gguf-py
gguf-py comes with llama.cpp's sources (node-llama-cpp ships them as llama/gitRelease.bundle: git clone it).
Writes <TYPE>.blocks (raw little-endian blocks) and <TYPE>.f32 (the decoded float32 values) beside this script.
"""
import os, sys
import numpy as np

sys.path.insert(0, sys.argv[1])
from gguf import quants, constants  # noqa: E402

# type: (block bytes, offsets of the float16 fields that scale the block)
FORMATS = {
    "Q8_0": (34, [0]), "Q4_0": (18, [0]), "Q4_1": (20, [0, 2]), "Q5_0": (22, [0]), "Q5_1": (24, [0, 2]),
    "Q4_K": (144, [0, 2]), "Q5_K": (176, [0, 2]), "Q6_K": (210, [208]), "F16": (2, [0]), "BF16": (2, []),
}
BLOCKS = 6
here = os.path.dirname(os.path.abspath(__file__))
rs = np.random.RandomState(20261201)
for name, (size, halves) in FORMATS.items():
    raw = rs.randint(0, 256, size=(BLOCKS, size), dtype=np.uint8)
    for off in halves:  # finite scales (random bits would give NaN and Inf, whose payloads prove nothing)
        raw[:, off:off + 2] = np.frombuffer(rs.uniform(-2, 2, BLOCKS).astype(np.float16).tobytes(), np.uint8).reshape(BLOCKS, 2)
    if name == "BF16":  # finite bfloat16 values: the top half of float32s
        raw = (np.frombuffer(rs.uniform(-4, 4, BLOCKS).astype(np.float32).tobytes(), np.uint32) >> 16).astype("<u2").view(np.uint8).reshape(BLOCKS, 2)
    values = quants.dequantize(raw, constants.GGMLQuantizationType[name]).astype("<f4")
    raw.tofile(os.path.join(here, name + ".blocks"))
    values.tofile(os.path.join(here, name + ".f32"))
    print(name, raw.shape, "->", values.size, "values")
