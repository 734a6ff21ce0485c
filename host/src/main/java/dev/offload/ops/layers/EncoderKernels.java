package dev.offload.ops.layers;

import dev.offload.cl.Buffer;
import dev.offload.cl.Kernel;
import dev.offload.cl.Program;
import dev.offload.device.KernelLauncher;

/**
 * The launches of layers.cl's encoder norms (layer_norm, layer_norm_onnx, and layer_norm_dqg, which quantizes its own
 * output per sentence), written once for the graph ({@link LayersOpenCl}) and for {@link EncoderLayersValidator}:
 * each takes the layers program, the buffers and a launcher and enqueues without waiting. A null residual or beta
 * is absent (the kernel never reads the argument then; another buffer stands in, as an argument cannot be null).
 */
public final class EncoderKernels {
    private EncoderKernels() {}

    /** The norm's rounding: ONNX Runtime's decomposed LayerNorm (layer_norm_onnx) or offload's own (layer_norm). */
    public enum Rounding { ONNX_RUNTIME, OWN }

    /** y [rows][cols] = LayerNorm(x [+ residual]) * gamma [+ beta], a work-item per row. */
    public static void layerNorm(Program p, KernelLauncher launch, long[] local, Rounding rounding, Buffer x, Buffer residual, Buffer gamma,
                                 Buffer beta, Buffer y, int rows, int cols, float eps) {
        try (Kernel k = p.kernel(rounding == Rounding.ONNX_RUNTIME ? "layer_norm_onnx" : "layer_norm")) {
            k.setArgs(x, residual != null ? residual : x, residual != null ? 1 : 0, gamma, beta != null ? beta : gamma, y, rows, cols, eps,
                    beta != null ? 1 : 0);
            launch.launch(k, new long[] {rows}, local);
        }
    }

    /**
     * {@link #layerNorm} of [groups][rowsPerGroup][cols] into y, then DynamicQuantizeLinear per group (sentence) into
     * q (uint8), each row's group scale and zero point in rowScales and rowZeroPoints ([groups * rowsPerGroup]); the
     * range of group g counts its first lengths[g] rows (0: all). One launch, a work-item per group.
     */
    public static void layerNormQuantize(Program p, KernelLauncher launch, Rounding rounding, Buffer x, Buffer residual, Buffer gamma,
                                         Buffer beta, Buffer y, int groups, int rowsPerGroup, int cols, float eps, Buffer lengths,
                                         Buffer q, Buffer rowScales, Buffer rowZeroPoints) {
        try (Kernel k = p.kernel("layer_norm_dqg")) {
            k.setArgs(x, residual != null ? residual : x, residual != null ? 1 : 0, gamma, beta != null ? beta : gamma, y, rowsPerGroup, cols,
                    eps, beta != null ? 1 : 0, rounding == Rounding.ONNX_RUNTIME ? 1 : 0, lengths, 1, q, rowScales, rowZeroPoints);
            launch.launch(k, new long[] {groups}, new long[] {1});
        }
    }
}
