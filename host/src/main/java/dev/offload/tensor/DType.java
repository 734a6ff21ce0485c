package dev.offload.tensor;

/** Element types offload reads and writes in .npy files (NumPy descr strings, little-endian). */
public enum DType {
    INT8("|i1", 1), UINT8("|u1", 1), INT32("<i4", 4), INT64("<i8", 8), FLOAT32("<f4", 4), FLOAT16("<f2", 2);

    private final String descr;
    private final int size;

    DType(String descr, int size) {
        this.descr = descr;
        this.size = size;
    }

    /** NumPy's descr, e.g. {@code <f4}. */
    public String descr() { return descr; }

    /** Bytes per element. */
    public int size() { return size; }

    /** The lower-case name NumPy prints ({@code float32}). */
    public String numpyName() { return name().toLowerCase(java.util.Locale.ROOT); }

    /** Parses a descr; byte order marks '<', '|' and (for one-byte types) '=' are accepted. */
    static DType ofDescr(String d) {
        String norm = d.length() == 3 && (d.charAt(0) == '=' || d.charAt(0) == '<' || d.charAt(0) == '|')
                ? d.substring(1) : null;
        if (norm == null) return null;
        for (DType t : values()) if (t.descr.substring(1).equals(norm)) return t;
        return null;
    }
}
