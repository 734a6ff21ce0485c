package dev.offload.model.onnx;

import dev.offload.model.UnsupportedModelException;

/** ONNX tensor element types offload handles, with their TensorProto.DataType numbers. */
public enum OnnxType {
    FLOAT(1, 4), UINT8(2, 1), INT8(3, 1), INT32(6, 4), INT64(7, 8);

    public final int code;
    public final int bytes;

    OnnxType(int code, int bytes) {
        this.code = code;
        this.bytes = bytes;
    }

    public static OnnxType of(int code, String what) {
        for (OnnxType t : values()) if (t.code == code) return t;
        throw new UnsupportedModelException(what + " has ONNX data type " + code + " (" + nameOf(code)
                + "); offload supports FLOAT, UINT8, INT8, INT32, INT64");
    }

    static String nameOf(int code) {
        return switch (code) {
            case 0 -> "UNDEFINED"; case 4 -> "UINT16"; case 5 -> "INT16"; case 8 -> "STRING"; case 9 -> "BOOL";
            case 10 -> "FLOAT16"; case 11 -> "DOUBLE"; case 12 -> "UINT32"; case 13 -> "UINT64"; case 16 -> "BFLOAT16";
            default -> "code " + code;
        };
    }
}
