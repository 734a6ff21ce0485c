package dev.offload.ops.layers;

import static dev.offload.ops.layers.DecoderLayersValidator.bits;
import static dev.offload.ops.layers.DecoderLayersValidator.concat;
import static dev.offload.ops.layers.DecoderLayersValidator.direct;
import static dev.offload.ops.layers.DecoderLayersValidator.floats;
import static dev.offload.ops.layers.DecoderLayersValidator.nanClass;

import dev.offload.cl.Buffer;
import dev.offload.cl.Program;
import dev.offload.device.OpenClDevice;
import dev.offload.kernels.KernelFamily;
import dev.offload.ops.layers.EncoderKernels.Rounding;
import dev.offload.ops.quant.Quantize;
import dev.offload.ops.quant.QuantizeReference;
import dev.offload.validate.CheckResult;
import dev.offload.validate.Compare;
import dev.offload.validate.GuardedOutput;
import dev.offload.validate.OpValidator;
import dev.offload.validate.ValidationOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Validates the encoder's norms (layers.cl) with poisoned outputs in guard regions. layer_norm_onnx bit for bit
 * against {@link LayersReference#layerNormOnnx} (ONNX Runtime's rounding, which both sides reproduce operation for
 * operation); layer_norm within {@value #NORM_BOUND} of the double reference (its float32 sums of up to a few
 * thousand terms, LayersOpenClTest's bound); both of x alone and of x + residual, with and without beta, and rows
 * holding a NaN or an infinity (they come out NaN on both sides).
 *
 * <p>layer_norm_dqg (the norm that quantizes its own output per sentence, one work-item per sentence) is judged bit for
 * bit on [y bits, row scale bits, row zero points, q]: with ONNX Runtime's rounding against the reference norm then
 * {@link QuantizeReference#perSentenceUint8}; with offload's own rounding against the unfused pair on the same device
 * (layer_norm, then quantize.cl's per-sentence kernels), which is what the fusion promises. Sentence lengths cover a
 * length past the end (clamped), 0 (all rows) and short ones; with four sentences or more, sentence 1 has a NaN
 * among its counted rows (scale NaN, zero point 0, every q 0) and sentence 3 one in a padding row (not in the range).
 */
public final class EncoderLayersValidator implements OpValidator {
    private static final double NORM_BOUND = 2e-5;
    private static final float EPS = 1e-12f;

    @Override public String op() { return "encoder_layers"; }

    @Override
    public List<CheckResult> validate(OpenClDevice device, ValidationOptions options) {
        SplittableRandom rnd = new SplittableRandom(options.seed());
        Program p = device.program(KernelFamily.LAYERS, LayersOpenCl.buildOptions());
        List<CheckResult> out = new ArrayList<>();
        int[][] normShapes = options.quick() ? new int[][] {{7, 37}} : new int[][] {{1, 1}, {3, 17}, {128, 384}, {5, 4099}};
        for (int[] s : normShapes) {
            for (Rounding r : Rounding.values()) {
                out.add(layerNorm(device, p, rnd, s[0], s[1], r, true, true, false));
                out.add(layerNorm(device, p, rnd, s[0], s[1], r, false, s[1] % 2 == 0, false));
            }
        }
        for (Rounding r : Rounding.values()) out.add(layerNorm(device, p, rnd, 4, 40, r, true, true, true));
        Quantize quantize = new Quantize(device);
        int[][] sentenceShapes = options.quick() ? new int[][] {{4, 7, 37}}
                : new int[][] {{1, 128, 384}, {2, 128, 384}, {3, 7, 37}, {4, 6, 40}, {8, 16, 48}, {2, 5, 4099}};
        for (int[] s : sentenceShapes) {
            for (Rounding r : Rounding.values()) {
                for (boolean residual : new boolean[] {true, false}) out.add(layerNormQuantize(device, p, quantize, rnd, s[0], s[1], s[2], r, residual));
            }
        }
        return out;
    }

    private static String name(Rounding r) { return r == Rounding.ONNX_RUNTIME ? "onnx" : "own"; }

    private CheckResult layerNorm(OpenClDevice device, Program p, SplittableRandom rnd, int rows, int cols, Rounding rounding,
                                  boolean residual, boolean withBeta, boolean specials) {
        float[] x = floats(rnd, rows * cols, 4), r = floats(rnd, rows * cols, 1), gamma = floats(rnd, cols, 2);
        float[] beta = withBeta ? floats(rnd, cols, 1) : null;
        if (specials) {
            x[1] = Float.NaN;                          // row 0: NaN everywhere
            x[cols + 2] = Float.POSITIVE_INFINITY;     // row 1: inf - inf = NaN everywhere
        }
        float[] want = reference(rounding, residual ? LayersReference.add(x, r) : x, cols, gamma, beta);
        try (Buffer xb = device.upload(x); Buffer rb = device.upload(r); Buffer gb = device.upload(gamma);
             Buffer bb = withBeta ? device.upload(beta) : null; GuardedOutput y = GuardedOutput.floats(device, x.length)) {
            EncoderKernels.layerNorm(p, direct(device), device.rowsLocalSize(rows), rounding, xb, residual ? rb : null, gb, bb, y.buffer(),
                    rows, cols, EPS);
            float[] got = y.readFloats();
            String shape = "layer_norm " + name(rounding) + " " + rows + "x" + cols + (residual ? " + residual" : "") + (withBeta ? "" : " no beta");
            if (specials) {
                shape += " NaN/Inf rows";
                if (rounding == Rounding.OWN) return Compare.exact(op(), shape + " [NaN, inf, finite]", device.spec(), nanClass(want), nanClass(got), y.guardsIntact());
            }
            if (rounding == Rounding.ONNX_RUNTIME) return Compare.exact(op(), shape + " [bits]", device.spec(), bits(want), bits(got), y.guardsIntact());
            return Compare.relative(op(), shape, device.spec(), want, got, NORM_BOUND, y.guardsIntact());
        }
    }

    private static float[] reference(Rounding rounding, float[] x, int cols, float[] gamma, float[] beta) {
        return rounding == Rounding.ONNX_RUNTIME ? LayersReference.layerNormOnnx(x, cols, gamma, beta, EPS)
                : LayersReference.layerNorm(x, cols, gamma, beta, EPS);
    }

    private CheckResult layerNormQuantize(OpenClDevice device, Program p, Quantize quantize, SplittableRandom rnd, int groups, int rows,
                                          int cols, Rounding rounding, boolean residual) {
        int n = groups * rows * cols, rowCount = groups * rows;
        float[] x = floats(rnd, n, 4), r = floats(rnd, n, 1), gamma = floats(rnd, cols, 2), beta = floats(rnd, cols, 1);
        int[] lengths = new int[groups];
        for (int g = 0; g < groups; g++) lengths[g] = g == 0 ? rows + 3 : g % 3 == 2 ? 0 : Math.max(1, rows - g);
        boolean specials = groups >= 4 && rows > 3;
        if (specials) {
            x[rows * cols + 5] = Float.NaN;                                    // sentence 1, a counted row
            x[(3 * rows + rows - 1) * cols + 1] = Float.NaN;                   // sentence 3, its last row: padding
        }
        try (Buffer xb = device.upload(x); Buffer rb = device.upload(r); Buffer gb = device.upload(gamma); Buffer bb = device.upload(beta);
             Buffer lb = device.upload(lengths); GuardedOutput y = GuardedOutput.floats(device, n); GuardedOutput q = GuardedOutput.bytes(device, n);
             GuardedOutput rs = GuardedOutput.floats(device, rowCount); GuardedOutput rz = GuardedOutput.ints(device, rowCount)) {
            int[] want = rounding == Rounding.ONNX_RUNTIME
                    ? referenceQuantized(residual ? LayersReference.add(x, r) : x, groups, rows, cols, gamma, beta, lengths)
                    : unfused(device, p, quantize, xb, residual ? rb : null, gb, bb, lb, groups, rows, cols);
            EncoderKernels.layerNormQuantize(p, direct(device), rounding, xb, residual ? rb : null, gb, bb, y.buffer(), groups, rows, cols, EPS,
                    lb, q.buffer(), rs.buffer(), rz.buffer());
            int[] got = flat(y.readFloats(), rs.readFloats(), rz.readInts(), q.readBytes());
            return Compare.exact(op(), "layer_norm_dqg " + name(rounding) + " " + groups + "x" + rows + "x" + cols + (residual ? " + residual" : "")
                    + (specials ? " NaN sentence, NaN padding" : "") + " [y bits, scales, zps, q]", device.spec(), want, got,
                    y.guardsIntact() && q.guardsIntact() && rs.guardsIntact() && rz.guardsIntact());
        }
    }

    private static int[] referenceQuantized(float[] x, int groups, int rows, int cols, float[] gamma, float[] beta, int[] lengths) {
        float[] y = LayersReference.layerNormOnnx(x, cols, gamma, beta, EPS);
        QuantizeReference.Quantized q = QuantizeReference.perSentenceUint8(y, groups, rows, cols, lengths);
        return flat(y, q.scales(), q.zeroPoints(), q.data());
    }

    /** layer_norm then the per-sentence quantize, two nodes' kernels on the device: [y bits, scales, zps, q]. */
    private static int[] unfused(OpenClDevice device, Program p, Quantize quantize, Buffer x, Buffer residual, Buffer gamma, Buffer beta,
                                 Buffer lengths, int groups, int rows, int cols) {
        int n = groups * rows * cols, rowCount = groups * rows;
        Quantize.Groups shape = new Quantize.Groups(groups, rows, cols, lengths);
        try (Buffer y = device.context().createBuffer(4L * n); Buffer q = device.context().createBuffer(n);
             Buffer gs = device.context().createBuffer(4L * groups); Buffer gz = device.context().createBuffer(4L * groups);
             Buffer rs = device.context().createBuffer(4L * rowCount); Buffer rz = device.context().createBuffer(4L * rowCount);
             Buffer partial = device.context().createBuffer(Quantize.groupScratchBytes(shape))) {
            EncoderKernels.layerNorm(p, direct(device), device.rowsLocalSize(rowCount), Rounding.OWN, x, residual, gamma, beta, y, rowCount, cols, EPS);
            quantize.enqueueGroups(y, shape, q, gs, gz, rs, rz, partial, direct(device));
            device.queue().finish();
            return flat(device.readFloats(y, n), device.readFloats(rs, rowCount), device.readInts(rz, rowCount), device.readBytes(q, n));
        }
    }

    private static int[] flat(float[] y, float[] scales, int[] zeroPoints, byte[] q) {
        int[] qs = new int[q.length];
        for (int i = 0; i < q.length; i++) qs[i] = q[i] & 0xFF;
        return concat(concat(bits(y), bits(scales)), concat(zeroPoints, qs));
    }
}
