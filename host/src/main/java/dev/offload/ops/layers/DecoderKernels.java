package dev.offload.ops.layers;

import dev.offload.cl.Buffer;
import dev.offload.cl.Kernel;
import dev.offload.cl.Program;
import dev.offload.device.KernelLauncher;
import dev.offload.graph.RotaryEmbedding;

/**
 * The launches of layers.cl's decoder kernels (rms_norm, silu_gate, their fused block-quantizing forms, rope,
 * rope of queries and keys in one launch, last_token), written once for the graph
 * ({@link LayersOpenCl}) and for {@link DecoderLayersValidator}: each takes the layers program, the buffers and a
 * launcher (the run's context, or the device directly) and enqueues without waiting.
 */
public final class DecoderKernels {
    private DecoderKernels() {}

    /**
     * rms_norm(x) * gamma quantized per block of 32 in the same launch: q [rows][cols] int8, scales [rows][cols / 32],
     * zeroPoint [1] (0); cols a multiple of 32.
     */
    public static void rmsNormBlockInt8(Program p, KernelLauncher launch, long[] local, Buffer x, Buffer gamma, int rows, int cols, float eps,
                                        Buffer q, Buffer scales, Buffer zeroPoint) {
        try (Kernel k = p.kernel("rms_norm_block_int8")) {
            k.setArgs(x, gamma, rows, cols, eps, q, scales, zeroPoint);
            launch.launch(k, new long[] {rows}, local);
        }
    }

    /** The gate of a gated product quantized per block of 32 (layers.cl): SwiGLU's SiLU or GeGLU's GELU (tanh form). */
    public enum Gate {
        SILU("silu_gate_block_int8"), GELU_TANH("gelu_gate_block_int8");

        final String kernel;

        Gate(String kernel) { this.kernel = kernel; }
    }

    /** gate(a[i]) * b[i] over n elements (a multiple of 32) quantized per block of 32 in the same launch. */
    public static void gateBlockInt8(Program p, Gate gate, KernelLauncher launch, long[] local, Buffer a, Buffer b, int n, Buffer q,
                                     Buffer scales, Buffer zeroPoint) {
        try (Kernel k = p.kernel(gate.kernel)) {
            k.setArgs(a, b, n / 32, q, scales, zeroPoint);
            launch.launch(k, new long[] {n / 32}, local);
        }
    }

    /** y [rows][cols] = rms_norm(x) * gamma. */
    public static void rmsNorm(Program p, KernelLauncher launch, long[] local, Buffer x, Buffer gamma, Buffer y, int rows, int cols, float eps) {
        try (Kernel k = p.kernel("rms_norm")) {
            k.setArgs(x, gamma, y, rows, cols, eps);
            launch.launch(k, new long[] {rows}, local);
        }
    }

    /** y[i] = silu(a[i]) * b[i] over n elements. */
    public static void siluGate(Program p, KernelLauncher launch, Buffer a, Buffer b, Buffer y, int n) {
        try (Kernel k = p.kernel("silu_gate")) {
            k.setArgs(a, b, y, n);
            launch.launch(k, new long[] {n}, null);
        }
    }

    /** y [tokens][heads * headDim] = RoPE of x at positions [tokens], tables uploaded from {@code rope}'s arrays. */
    public static void rope(Program p, KernelLauncher launch, RotaryEmbedding rope, Buffer x, Buffer positions, Buffer cos, Buffer sin,
                            Buffer y, int tokens) {
        try (Kernel k = p.kernel("rope")) {
            k.setArgs(x, positions, cos, sin, y, rope.heads(), rope.headDim(), rope.style() == RotaryEmbedding.Style.HALVES ? 1 : 0,
                    rope.positions());
            launch.launch(k, new long[] {rope.heads(), tokens}, null);
        }
    }

    /** {@link #rope} of q with {@code query} and of k with {@code key} (the same tables) in one launch. */
    public static void ropeQueryKey(Program p, KernelLauncher launch, RotaryEmbedding query, RotaryEmbedding key, Buffer q, Buffer k,
                                    Buffer positions, Buffer cos, Buffer sin, Buffer yq, Buffer yk, int tokens) {
        try (Kernel kernel = p.kernel("rope_query_key")) {
            kernel.setArgs(q, k, positions, cos, sin, yq, yk, query.heads(), key.heads(), query.headDim(),
                    query.style() == RotaryEmbedding.Style.HALVES ? 1 : 0, query.positions());
            launch.launch(kernel, new long[] {query.heads() + key.heads(), tokens}, null);
        }
    }

    /** y [batch][cols] = x [batch][seq][cols]'s last token rows. */
    public static void lastToken(Program p, KernelLauncher launch, Buffer x, Buffer y, int batch, int seq, int cols) {
        try (Kernel k = p.kernel("last_token")) {
            k.setArgs(x, y, seq, cols);
            launch.launch(k, new long[] {cols, batch}, null);
        }
    }
}
