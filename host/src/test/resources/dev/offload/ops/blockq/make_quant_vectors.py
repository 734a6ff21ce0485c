#!/usr/bin/env python3
"""Known-answer vectors for BlockMatrixQuantizeTest: seeded float rows and their Q8_0 / Q4_0 blocks as llama.cpp's gguf-py
quantizes them (Q8_0.quantize_blocks is bit-identical to ggml's quantize_row_q8_0_ref; Q4_0's follows
quantize_row_q4_0_ref).

Run once (not part of the build): python3 make_quant_vectors.py /path/to/llama.cpp/gguf-py
Writes input.f32 (float32 rows of 64 values) and Q8_0.blocks, Q4_0.blocks beside this script.
"""
import os, sys
import numpy as np

sys.path.insert(0, sys.argv[1])
from gguf import quants, constants  # noqa: E402

here = os.path.dirname(os.path.abspath(__file__))
rs = np.random.RandomState(20261202)
BLOCKS = 40
x = (rs.standard_normal((BLOCKS, 32)) * (10.0 ** rs.uniform(-7, 6, (BLOCKS, 1)))).astype(np.float32)
# Edge blocks (finite only: numpy leaves NaN -> int8 undefined): roundf's halves (amax 127 makes d = 1), d on an
# fp16 tie (1 + 2^-11, and 1.5 * 2^-24 among the subnormals), a subnormal d, d rounding to fp16 infinity and just
# below it, zeros, and Q4_0's negative maximum.
edge = [127.0, 127.0 * (1 + 2.0 ** -11), 190.5 * 2.0 ** -24, 1e-6, 65520.0 * 127, 65519.0 * 127, 0.0, -3.0]
for i, amax in enumerate(edge):
    row = amax * ((np.arange(32) % 16) - 7.5) / 8 if amax else np.zeros(32)  # +0 only: ggml's max starts at +0
    row[31] = amax
    x[i] = row.astype(np.float32)
x[0, :8] = [0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 126.5, -126.5]
x.astype("<f4").tofile(os.path.join(here, "input.f32"))
for name in ("Q8_0", "Q4_0"):
    blocks = quants.quantize(x.reshape(BLOCKS // 2, 64), constants.GGMLQuantizationType[name])
    blocks.tofile(os.path.join(here, name + ".blocks"))
    print(name, x.shape, "->", blocks.nbytes, "bytes")
