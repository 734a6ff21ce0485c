package dev.offload.ops.attention;

import dev.offload.cl.Buffer;
import dev.offload.cl.DeviceType;
import dev.offload.cl.Kernel;
import dev.offload.cl.Program;
import dev.offload.device.KernelLauncher;
import dev.offload.device.OpenClDevice;
import dev.offload.kernels.KernelFamily;

/**
 * Attention as ONNX Runtime's CPU provider rounds an exported BERT graph's (attention.cl's {@code attention_onnx*}
 * kernels, judged bit for bit by {@link AttentionReference#onnxRuntime}): scores (q·k) / divisor as fma chains,
 * MLAS's softmax, the weighted values as fma chains over the keys in order. Token-major q, k, v [B, S, H*D] as the
 * graph holds them; keys past a sentence's length are ignored, a row without keys is zeros.
 *
 * <p>On a CPU {@code attention_onnx_rows} takes 16 query rows per work-item, one per vector lane (the same
 * operations per lane: the same bits); elsewhere {@code attention_onnx} takes one row per work-item, with K first
 * turned into columns ({@code keys_to_columns}) so that scores are computed 16 keys per vector.
 */
public final class OnnxAttention {
    private final OpenClDevice device;

    public OnnxAttention(OpenClDevice device) { this.device = device; }

    /**
     * The build options of the ONNX Runtime form (before the device's style define): no head dimension (it is a
     * run-time argument here) and correctly rounded division, which ONNX Runtime's Div needs.
     */
    public static String buildOptions() { return "-DONNX_ATTENTION=1 -cl-fp32-correctly-rounded-divide-sqrt"; }

    /** The program, built (or taken from the device's cache) now, so that a build failure surfaces before any run. */
    public Program program() { return device.program(KernelFamily.ATTENTION, buildOptions()); }

    /** CPUs: 16 query rows per work-item, one per vector lane ({@link #enqueueRowLanes}); other devices: {@link #enqueueRows}. */
    public boolean rowLanes() { return device.info().type() == DeviceType.CPU; }

    /** Query rows rounded up to the 16 lanes of {@link #enqueueRowLanes}. */
    public static int roundUp16(int n) { return (n + 15) / 16 * 16; }

    /** The attention shape and ONNX Runtime's divisor (sqrt(D) as the graph writes it). */
    public record Shape(int batch, int heads, int kvHeads, int headDim, int sq, int skv, float divisor) {}

    /**
     * Enqueues attention_onnx_rows: q [B, Sq, H*D] over k, v [B, Skv, Hkv*D] into out, without waiting.
     *
     * @param lengths per-sentence key counts [B] on the device, clamped to [0, Skv] by the kernel
     * @param hasLengths false: all keys count ({@code lengths} is then a placeholder; a kernel argument cannot be null)
     * @param scratch B*H*roundUp16(Sq)*(Skv + D) floats: the transposed query rows and their scores
     */
    public void enqueueRowLanes(Shape s, Buffer q, Buffer k, Buffer v, Buffer lengths, boolean hasLengths, Buffer out,
                                Buffer scratch, KernelLauncher launcher) {
        try (Kernel kernel = program().kernel("attention_onnx_rows")) {
            kernel.setArgs(q, k, v, lengths, hasLengths ? 1 : 0, out, scratch, s.sq(), s.skv(), s.heads(), s.kvHeads(),
                    s.headDim(), s.divisor());
            launcher.launch(kernel, new long[] {roundUp16(s.sq()) / 16, (long) s.batch() * s.heads()}, new long[] {1, 1});
        }
    }

    /**
     * Enqueues keys_to_columns, then attention_onnx (one work-item per query row), without waiting.
     *
     * @param keyColumns B*Hkv*D*roundUp16(Skv) floats: K as columns
     * @param scores     B*H*Sq*roundUp16(Skv) floats: each row's scores, then probabilities
     */
    public void enqueueRows(Shape s, Buffer q, Buffer k, Buffer v, Buffer lengths, boolean hasLengths, Buffer out,
                            Buffer keyColumns, Buffer scores, KernelLauncher launcher) {
        int skv16 = roundUp16(s.skv());
        Program program = program();
        try (Kernel columns = program.kernel("keys_to_columns"); Kernel attention = program.kernel("attention_onnx")) {
            columns.setArgs(k, keyColumns, s.skv(), skv16, s.kvHeads(), s.headDim());
            launcher.launch(columns, new long[] {skv16, (long) s.batch() * s.kvHeads()}, null);
            attention.setArgs(q, keyColumns, v, lengths, hasLengths ? 1 : 0, out, scores, s.sq(), s.skv(), skv16,
                    s.heads(), s.kvHeads(), s.headDim(), s.divisor());
            launcher.launch(attention, new long[] {s.sq(), (long) s.batch() * s.heads()}, null);
        }
    }
}
