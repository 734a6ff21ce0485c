"""ggml's tensor encodings, written the way ggml's reference quantizers write them (ggml-quants.c,
quantize_row_*_ref), in float32 arithmetic, with the decoders that read them back.

Q8_0: blocks of 32 values: fp16 d = amax / 127, then 32 int8 q = roundf(x * (1/d)) (round half away from zero).
Q4_0: blocks of 32 values: with m the value of largest magnitude (the first one on a tie), fp16 d = m / -8, then
16 bytes: q = min(15, (int8)(x * (1/d) + 8.5)) (truncated), element j in the low nibble of byte j, element j + 16
in its high nibble. A value decodes as (q - 8) * d.
"""
import numpy as np

F32, F16, Q4_0, Q8_0 = 0, 1, 2, 8          # ggml_type numbers
BLOCK = 32
BLOCK_BYTES = {Q4_0: 18, Q8_0: 34}


def _blocks(x):
    x = np.ascontiguousarray(x, dtype=np.float32).reshape(-1)
    if x.size % BLOCK:
        raise ValueError(f"{x.size} values are not whole blocks of {BLOCK}")
    return x.reshape(-1, BLOCK)


def _inverse(d):
    """1/d in float32, 0 where d is 0 (as ggml's `id = d ? 1.0f/d : 0.0f`)."""
    out = np.zeros_like(d)
    nz = d != 0
    out[nz] = np.float32(1.0) / d[nz]
    return out


def _roundf(x):
    """C's roundf: half away from zero (numpy's round is half to even). Exact in float64 for these magnitudes."""
    x = x.astype(np.float64)
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def quantize_q8_0(x):
    b = _blocks(x)
    amax = np.abs(b).max(axis=1)
    d = (amax / np.float32(127)).astype(np.float32)
    q = _roundf(b * _inverse(d)[:, None]).astype(np.int8)
    out = np.empty((len(b), 34), dtype=np.uint8)
    out[:, :2] = d.astype(np.float16).view(np.uint8).reshape(-1, 2)
    out[:, 2:] = q.view(np.uint8)
    return out.tobytes()


def dequantize_q8_0(data, n):
    blk = np.frombuffer(data, dtype=np.uint8).reshape(-1, 34)
    d = blk[:, :2].copy().view(np.float16).astype(np.float32)
    q = blk[:, 2:].copy().view(np.int8).astype(np.float32)
    return (q * d).reshape(-1)[:n]


def quantize_q4_0(x):
    b = _blocks(x)
    first_max = np.argmax(np.abs(b), axis=1)        # argmax returns the first of equal magnitudes, as ggml's loop
    m = b[np.arange(len(b)), first_max]
    d = (m / np.float32(-8)).astype(np.float32)
    scaled = (b * _inverse(d)[:, None]).astype(np.float32) + np.float32(8.5)
    q = np.minimum(15, np.trunc(scaled).astype(np.int32)).astype(np.uint8)
    out = np.empty((len(b), 18), dtype=np.uint8)
    out[:, :2] = d.astype(np.float16).view(np.uint8).reshape(-1, 2)
    out[:, 2:] = q[:, :16] | (q[:, 16:] << 4)
    return out.tobytes()


def dequantize_q4_0(data, n):
    blk = np.frombuffer(data, dtype=np.uint8).reshape(-1, 18)
    d = blk[:, :2].copy().view(np.float16).astype(np.float32)
    low, high = blk[:, 2:] & 0x0F, blk[:, 2:] >> 4
    q = np.concatenate([low, high], axis=1).astype(np.float32) - 8
    return (q * d).reshape(-1)[:n]


def encode(x, ggml_type):
    """The bytes of tensor `x` (any shape, row-major, ggml's ne0 = last axis) in `ggml_type`."""
    if ggml_type == F32:
        return np.ascontiguousarray(x, dtype="<f4").tobytes()
    if ggml_type == F16:
        return np.ascontiguousarray(x, dtype="<f2").tobytes()
    if ggml_type == Q8_0:
        return quantize_q8_0(x)
    if ggml_type == Q4_0:
        return quantize_q4_0(x)
    raise ValueError(f"ggml type {ggml_type} is not written here")


def decode(data, ggml_type, n):
    if ggml_type == F32:
        return np.frombuffer(data, dtype="<f4")[:n].copy()
    if ggml_type == F16:
        return np.frombuffer(data, dtype="<f2")[:n].astype(np.float32)
    if ggml_type == Q8_0:
        return dequantize_q8_0(data, n)
    if ggml_type == Q4_0:
        return dequantize_q4_0(data, n)
    raise ValueError(f"ggml type {ggml_type} is not read here")
