package dev.offload.model.gguf;

/** The metadata value types of GGUF, by the id the file stores, with the byte size of a scalar (0: variable). */
public enum GgufValueType {
    UINT8(1), INT8(1), UINT16(2), INT16(2), UINT32(4), INT32(4), FLOAT32(4), BOOL(1), STRING(0), ARRAY(0),
    UINT64(8), INT64(8), FLOAT64(8);

    private final int scalarBytes;

    GgufValueType(int scalarBytes) { this.scalarBytes = scalarBytes; }

    /** Bytes of one value of this type; for a string or an array the least it can take (its length/header). */
    int minBytes() {
        return switch (this) {
            case STRING -> 8;
            case ARRAY -> 12;
            default -> scalarBytes;
        };
    }

    /** True for the eight integer types. */
    public boolean isInteger() {
        return switch (this) {
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> true;
            default -> false;
        };
    }

    /** The type with this id, or null. */
    static GgufValueType ofId(long id) {
        GgufValueType[] all = values();
        return id >= 0 && id < all.length ? all[(int) id] : null;
    }
}
