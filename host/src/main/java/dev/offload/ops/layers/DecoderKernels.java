package dev.offload.ops.layers;

import dev.offload.cl.Buffer;
import dev.offload.cl.Kernel;
import dev.offload.cl.Program;
import dev.offload.device.KernelLauncher;
import dev.offload.graph.RotaryEmbedding;

/**
 * The launches of layers.cl's decoder kernels (rms_norm, silu_gate, rope, last_token), written once for the graph
 * ({@link LayersOpenCl}) and for {@link DecoderLayersValidator}: each takes the layers program, the buffers and a
 * launcher (the run's context, or the device directly) and enqueues without waiting.
 */
public final class DecoderKernels {
    private DecoderKernels() {}

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
            launch.launch(k, new long[] {rope.headDim() / 2, rope.heads(), tokens}, null);
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
