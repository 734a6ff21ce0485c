package dev.offload.kernels;

/**
 * The kernel families offload ships, one {@code .cl} file each under {@code dev/offload/kernels/}.
 * The version goes into program caches and bitstream manifests; bump it when a kernel's interface changes.
 */
public enum KernelFamily {
    /** A saxpy smoke test: proves a device can build and run anything at all. */
    SMOKE("smoke", 1),
    INT8_GEMM("int8_gemm", 2),
    /** INT8 GEMM shaped for GPUs: work-group tiles of A and B staged in local memory (dev.offload.ops.gemm.TiledGemmConfig). */
    INT8_GEMM_TILED("int8_gemm_tiled", 1),
    SPMM("spmm", 2),
    /** Block-sparse INT8 linear: BSR weights in VNNI-shaped blocks times quantized activations, token-major. */
    BSR_LINEAR("bsr_linear", 1),
    ATTENTION("attention", 2),
    QUANTIZE("quantize", 3),
    /** Block-quantized linear: ggml Q8_0 / Q4_0 weights times per-block int8 activations. */
    BLOCKQ("blockq", 1),
    /** Element-wise, normalization, embedding and pooling ops of the model graph (host runtime). */
    LAYERS("layers", 2);

    private final String fileStem;
    private final int version;

    KernelFamily(String fileStem, int version) {
        this.fileStem = fileStem;
        this.version = version;
    }

    /** The file name without {@code .cl}, also the family's name in manifests. */
    public String id() { return fileStem; }

    public int version() { return version; }

    public static KernelFamily byId(String id) {
        for (KernelFamily f : values()) if (f.fileStem.equals(id)) return f;
        throw new IllegalArgumentException("unknown kernel family '" + id + "'");
    }
}
