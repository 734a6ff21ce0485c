"""A small GGUF version 3 writer, as the format is specified (ggml's docs/gguf.md): little-endian; header
(magic "GGUF", version, tensor count, metadata count); metadata as key, value type, value; tensor infos as name,
dimension count, dimensions (ne0 first: the length of a row), ggml type, offset into the data section; the data
section starts at the next multiple of `general.alignment` (32) and every tensor's offset is a multiple of it.
"""
import struct

import numpy as np

# GGUF metadata value types
UINT8, INT8, UINT16, INT16, UINT32, INT32, FLOAT32, BOOL, STRING, ARRAY, UINT64, INT64, FLOAT64 = range(13)
ALIGNMENT = 32


def _string(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


class GgufWriter:
    def __init__(self):
        self.metadata = []      # (key, type, packed value)
        self.tensors = []       # (name, ne, ggml type, bytes)

    def u32(self, key, v):
        self.metadata.append((key, UINT32, struct.pack("<I", v)))

    def f32(self, key, v):
        self.metadata.append((key, FLOAT32, struct.pack("<f", v)))

    def boolean(self, key, v):
        self.metadata.append((key, BOOL, struct.pack("<B", 1 if v else 0)))

    def string(self, key, v):
        self.metadata.append((key, STRING, _string(v)))

    def strings(self, key, values):
        body = b"".join(_string(v) for v in values)
        self.metadata.append((key, ARRAY, struct.pack("<IQ", STRING, len(values)) + body))

    def f32s(self, key, values):
        self.metadata.append((key, ARRAY, struct.pack("<IQ", FLOAT32, len(values)) + np.asarray(values, dtype="<f4").tobytes()))

    def i32s(self, key, values):
        self.metadata.append((key, ARRAY, struct.pack("<IQ", INT32, len(values)) + np.asarray(values, dtype="<i4").tobytes()))

    def tensor(self, name, ne, ggml_type, data):
        """`ne`: ggml's dimensions, the row length first (a torch [out, in] weight is ne = [in, out])."""
        self.tensors.append((name, list(ne), ggml_type, data))

    def write(self, path):
        out = bytearray(b"GGUF")
        out += struct.pack("<IQQ", 3, len(self.tensors), len(self.metadata))
        for key, kind, value in self.metadata:
            out += _string(key) + struct.pack("<I", kind) + value
        offset = 0
        for name, ne, kind, data in self.tensors:
            out += _string(name) + struct.pack("<I", len(ne)) + struct.pack(f"<{len(ne)}Q", *ne)
            out += struct.pack("<IQ", kind, offset)
            offset += -(-len(data) // ALIGNMENT) * ALIGNMENT
        out += bytes(-len(out) % ALIGNMENT)
        for _, _, _, data in self.tensors:
            out += data + bytes(-len(data) % ALIGNMENT)
        with open(path, "wb") as f:
            f.write(out)
