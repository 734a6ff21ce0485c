package dev.offload.ops.quant;

import dev.offload.cl.Buffer;
import dev.offload.device.OpenClDevice;
import dev.offload.ops.quant.QuantizeReference.DynamicQuantized;
import dev.offload.ops.quant.QuantizeReference.RowQuantized;
import dev.offload.validate.CheckResult;
import dev.offload.validate.Compare;
import dev.offload.validate.GuardedOutput;
import dev.offload.validate.OpValidator;
import dev.offload.validate.ValidationOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Validates the quantize kernels bit for bit: DynamicQuantizeLinear (including all-zero input),
 * symmetric per-row int8, per-block int8 (ggml's block_q8_0: random rows, and blocks made to hit roundf's halves,
 * fp16 rounding ties, subnormal and overflowing scales, zeros, NaN and infinities), per-sentence uint8 (counted
 * lengths, a NaN sentence; in one launch and in two), and dequantize per tensor/row/column for int8 and uint8.
 */
public final class QuantizeValidator implements OpValidator {
    @Override public String op() { return "quantize"; }

    @Override
    public List<CheckResult> validate(OpenClDevice device, ValidationOptions options) {
        Quantize q = new Quantize(device);
        SplittableRandom rnd = new SplittableRandom(options.seed());
        List<CheckResult> out = new ArrayList<>();
        int[] sizes = options.quick() ? new int[] {1, 1000} : new int[] {1, 7, 1000, 65537, 1 << 20};
        for (int n : sizes) out.add(dynamic(device, q, floats(rnd, n, rnd.nextDouble(-2, 2)), "n=" + n));
        out.add(dynamic(device, q, new float[64], "n=64 all zeros"));
        int[][] shapes = options.quick() ? new int[][] {{3, 17}} : new int[][] {{1, 1}, {3, 17}, {64, 384}, {5, 4099}};
        for (int[] s : shapes) {
            out.add(symmetric(device, q, floats(rnd, s[0] * s[1], 0), s[0], s[1]));
            for (QuantParams.Axis axis : QuantParams.Axis.values()) {
                for (QuantType t : QuantType.values()) out.add(dequantize(device, q, rnd, s[0], s[1], axis, t));
            }
        }
        int[][] blockShapes = options.quick() ? new int[][] {{3, 96}} : new int[][] {{1, 32}, {3, 96}, {17, 2080}, {64, 2048}};
        for (int[] s : blockShapes) out.add(perBlock(device, q, floats(rnd, s[0] * s[1], 0), s[0], s[1], "random"));
        out.add(perBlock(device, q, edgeBlocks(), EDGE_BLOCKS, 32, "edge blocks"));
        // Per sentence (the encoder's quantize node), in one launch and in two, whichever the device would pick.
        int[][] sentenceShapes = options.quick() ? new int[][] {{3, 7, 37}} : new int[][] {{1, 128, 384}, {1, 128, 1536}, {3, 7, 37}, {8, 16, 48}};
        for (int[] s : sentenceShapes) {
            for (boolean oneLaunch : new boolean[] {true, false}) out.add(perSentence(device, q, rnd, s[0], s[1], s[2], oneLaunch));
        }
        return out;
    }

    private static final int EDGE_BLOCKS = 9;

    /**
     * One block per edge: roundf's halves (amax 127: d = 1, x = +-0.5, +-2.5 ...), d on an fp16 tie in the normal
     * range (1 + 2^-11) and in the subnormal range (1.5 * 2^-24), d subnormal, d rounding to fp16 infinity (65520)
     * and just below it, all zeros, a NaN, and an infinity.
     */
    private static float[] edgeBlocks() {
        float[] x = new float[EDGE_BLOCKS * 32];
        float[] amax = {127f, 127f * (1f + 0x1p-11f), 190.5f * 0x1p-24f, 1e-6f, 65520f * 127f, 65519f * 127f, 0f, 1f, 1f};
        for (int b = 0; b < EDGE_BLOCKS; b++) {
            for (int i = 0; i < 32; i++) x[b * 32 + i] = amax[b] * ((i % 16) - 7.5f) / 8f;
            x[b * 32 + 31] = amax[b];
        }
        float[] halves = {0.5f, -0.5f, 1.5f, -1.5f, 2.5f, -2.5f, 126.5f, -126.5f};
        System.arraycopy(halves, 0, x, 0, halves.length);
        x[7 * 32 + 3] = Float.NaN;
        x[8 * 32 + 9] = Float.NEGATIVE_INFINITY;
        return x;
    }

    private CheckResult perBlock(OpenClDevice device, Quantize q, float[] x, int rows, int cols, String what) {
        QuantizeReference.Quantized want = QuantizeReference.perBlockInt8(x, rows, cols);
        int blocks = x.length / Q8Block.SIZE;
        try (Buffer xb = device.upload(x); GuardedOutput data = GuardedOutput.bytes(device, x.length);
             GuardedOutput scales = GuardedOutput.floats(device, blocks); GuardedOutput zero = GuardedOutput.ints(device, 1)) {
            q.enqueuePerBlockInt8(xb, rows, cols, data.buffer(), scales.buffer(), zero.buffer(), (k, global, local) -> device.launch(k, global, local).close());
            // One exact comparison over [scale bits (NaN as one pattern), q..., zero point].
            int[] w = new int[blocks + x.length + 1], g = new int[blocks + x.length + 1];
            g[blocks + x.length] = zero.readInts()[0];
            float[] gs = scales.readFloats();
            byte[] gd = data.readBytes();
            for (int b = 0; b < blocks; b++) { w[b] = Float.floatToIntBits(want.scales()[b]); g[b] = Float.floatToIntBits(gs[b]); }
            for (int i = 0; i < x.length; i++) { w[blocks + i] = want.data()[i]; g[blocks + i] = gd[i]; }
            return Compare.exact(op(), "per_block_int8 " + rows + "x" + cols + " " + what + " [scales, q..., zp]", device.spec(), w, g,
                    data.guardsIntact() && scales.guardsIntact() && zero.guardsIntact());
        }
    }

    /**
     * Per-sentence uint8 over [groups][rows][cols]: group g counts lengths[g] rows (0: all of them); with three
     * groups or more, group 1 holds a NaN among its counted rows (scale NaN, zero point 0, values 0).
     */
    private CheckResult perSentence(OpenClDevice device, Quantize q, SplittableRandom rnd, int groups, int rows, int cols, boolean oneLaunch) {
        float[] x = floats(rnd, groups * rows * cols, rnd.nextDouble(-1, 1));
        int[] lengths = new int[groups];
        for (int g = 0; g < groups; g++) lengths[g] = g % 3 == 2 ? 0 : Math.max(1, rows - g);
        if (groups >= 3) x[rows * cols + 1] = Float.NaN;
        QuantizeReference.Quantized want = QuantizeReference.perSentenceUint8(x, groups, rows, cols, lengths);
        int n = groups * rows;
        Quantize.Groups shape = new Quantize.Groups(groups, rows, cols, null);
        try (Buffer xb = device.upload(x); Buffer lb = device.upload(lengths);
             Buffer partial = device.context().createBuffer(Quantize.groupScratchBytes(shape));
             GuardedOutput y = GuardedOutput.bytes(device, x.length);
             GuardedOutput gs = GuardedOutput.floats(device, groups); GuardedOutput gz = GuardedOutput.ints(device, groups);
             GuardedOutput rs = GuardedOutput.floats(device, n); GuardedOutput rz = GuardedOutput.ints(device, n)) {
            q.enqueueGroups(xb, new Quantize.Groups(groups, rows, cols, lb), y.buffer(), gs.buffer(), gz.buffer(), rs.buffer(), rz.buffer(),
                    partial, (k, global, local) -> device.launch(k, global, local).close(), oneLaunch);
            device.queue().finish();
            // One exact comparison over [row scale bits (NaN as one pattern), row zero points, y...].
            int[] w = new int[2 * n + x.length], g = new int[2 * n + x.length];
            float[] gotScales = rs.readFloats();
            int[] gotZeros = rz.readInts();
            byte[] got = y.readBytes();
            for (int i = 0; i < n; i++) {
                w[i] = Float.floatToIntBits(want.scales()[i]);
                g[i] = Float.floatToIntBits(gotScales[i]);
                w[n + i] = want.zeroPoints()[i];
                g[n + i] = gotZeros[i];
            }
            for (int i = 0; i < x.length; i++) { w[2 * n + i] = want.data()[i] & 0xFF; g[2 * n + i] = got[i] & 0xFF; }
            return Compare.exact(op(), "per_sentence_uint8 " + groups + "x" + rows + "x" + cols + (oneLaunch ? " one launch" : " two launches")
                    + " [scales, zps, y...]", device.spec(), w, g,
                    y.guardsIntact() && gs.guardsIntact() && gz.guardsIntact() && rs.guardsIntact() && rz.guardsIntact());
        }
    }

    private CheckResult dynamic(OpenClDevice device, Quantize q, float[] x, String shape) {
        DynamicQuantized want = QuantizeReference.dynamicQuantizeLinear(x);
        try (Buffer xb = device.upload(x); GuardedOutput y = GuardedOutput.bytes(device, x.length);
             GuardedOutput scale = GuardedOutput.floats(device, 1); GuardedOutput zp = GuardedOutput.ints(device, 1)) {
            q.dynamicQuantizeLinear(xb, x.length, y.buffer(), scale.buffer(), zp.buffer());
            // One exact comparison over [scale bits, zero point, y...].
            int[] w = new int[x.length + 2], g = new int[x.length + 2];
            w[0] = Float.floatToRawIntBits(want.scale());
            g[0] = Float.floatToRawIntBits(scale.readFloats()[0]);
            w[1] = want.zeroPoint();
            g[1] = zp.readInts()[0];
            byte[] got = y.readBytes();
            for (int i = 0; i < x.length; i++) { w[i + 2] = want.data()[i] & 0xFF; g[i + 2] = got[i] & 0xFF; }
            boolean guards = y.guardsIntact() && scale.guardsIntact() && zp.guardsIntact();
            return Compare.exact(op(), "dynamic_quantize_linear " + shape + " [scale, zp, y...]", device.spec(), w, g, guards);
        }
    }

    private CheckResult symmetric(OpenClDevice device, Quantize q, float[] x, int rows, int cols) {
        RowQuantized want = QuantizeReference.symmetricPerRow(x, rows, cols);
        try (Buffer xb = device.upload(x); GuardedOutput data = GuardedOutput.bytes(device, x.length);
             GuardedOutput scales = GuardedOutput.floats(device, rows)) {
            q.symmetricPerRow(xb, rows, cols, data.buffer(), scales.buffer());
            int[] w = new int[rows + x.length], g = new int[rows + x.length];
            float[] gs = scales.readFloats();
            byte[] gd = data.readBytes();
            for (int r = 0; r < rows; r++) { w[r] = Float.floatToRawIntBits(want.scales()[r]); g[r] = Float.floatToRawIntBits(gs[r]); }
            for (int i = 0; i < x.length; i++) { w[rows + i] = want.data()[i]; g[rows + i] = gd[i]; }
            return Compare.exact(op(), "symmetric_per_row " + rows + "x" + cols + " [scales, q...]", device.spec(), w, g,
                    data.guardsIntact() && scales.guardsIntact());
        }
    }

    private CheckResult dequantize(OpenClDevice device, Quantize q, SplittableRandom rnd, int rows, int cols,
                                   QuantParams.Axis axis, QuantType type) {
        byte[] data = new byte[rows * cols];
        rnd.nextBytes(data);
        int count = switch (axis) { case TENSOR -> 1; case ROW -> rows; case COLUMN -> cols; };
        float[] scale = new float[count];
        int[] zp = new int[count];
        for (int i = 0; i < count; i++) { scale[i] = (float) rnd.nextDouble(1e-4, 0.1); zp[i] = type.min() + rnd.nextInt(256); }
        QuantParams params = new QuantParams(axis, scale, zp);
        try (Buffer qb = device.upload(data); GuardedOutput y = GuardedOutput.floats(device, data.length)) {
            q.dequantize(qb, type, rows, cols, params, y.buffer());
            return Compare.relative(op(), "dequantize " + rows + "x" + cols + " " + type + " per " + axis,
                    device.spec(), QuantizeReference.dequantize(data, type, rows, cols, params), y.readFloats(), 0,
                    y.guardsIntact());
        }
    }

    private static float[] floats(SplittableRandom rnd, int n, double offset) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (offset + rnd.nextDouble(-1, 1) * Math.pow(10, rnd.nextInt(3) - 1));
        return x;
    }
}
