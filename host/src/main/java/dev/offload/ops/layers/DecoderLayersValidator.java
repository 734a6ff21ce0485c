package dev.offload.ops.layers;

import dev.offload.cl.Buffer;
import dev.offload.cl.Event;
import dev.offload.cl.Program;
import dev.offload.config.OffloadSettings;
import dev.offload.decoder.DemoModel;
import dev.offload.decoder.DemoModelGreedyCheck;
import dev.offload.device.KernelLauncher;
import dev.offload.device.OpenClDevice;
import dev.offload.graph.RotaryEmbedding;
import dev.offload.kernels.KernelFamily;
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
 * Validates the decoder's layer kernels (layers.cl) against {@link LayersReference}, with poisoned outputs in guard
 * regions: rope and rope_query_key (both layouts, positions at both ends of the tables, odd head counts) bit for
 * bit, since both sides make the same float products and sums; last_token exactly; rms_norm and silu_gate within the float32 bounds that
 * LayersOpenClTest justifies (2e-5 for norms of up to a few thousand terms, 1e-5 for silu's exp). NaN and infinities
 * go in as the reference takes them: a NaN row stays NaN through rms_norm, a position outside the tables gives NaN.
 *
 * <p>The fused rms_norm_block_int8 and silu_gate_block_int8 are checked twice: bit for bit against the unfused
 * kernels on the same device (rms_norm or silu_gate, then quantize.cl's block_int8: [scales, q..., zero point]), which
 * is what the fusion promises, and against LayersReference's float result, dequantized (q * scale), within half a
 * quantization step plus the fp16 rounding of the scale (127 steps of 2^-11 of it): 0.56 / 127 of the largest value,
 * normwise {@value #BLOCK_Q_BOUND}. A NaN row gives NaN scales and zero data on both sides (against QuantizeReference).
 *
 * <p>Last, the layers at work in a real model: the demo model (Q8_0) run greedy for 64 tokens on the device against
 * the java reference in the device's arithmetic, identical tokens and every step's logits within a bound
 * ({@link DemoModelGreedyCheck}; one prompt with --quick, three without).
 */
public final class DecoderLayersValidator implements OpValidator {
    private static final double NORM_BOUND = 2e-5, SILU_BOUND = 1e-5, BLOCK_Q_BOUND = 4.5e-3;

    @Override public String op() { return "decoder_layers"; }

    @Override
    public List<CheckResult> validate(OpenClDevice device, ValidationOptions options) {
        SplittableRandom rnd = new SplittableRandom(options.seed());
        Program p = device.program(KernelFamily.LAYERS, LayersOpenCl.buildOptions());
        List<CheckResult> out = new ArrayList<>();
        int[][] ropeShapes = options.quick() ? new int[][] {{5, 3, 64}} : new int[][] {{1, 1, 2}, {5, 3, 64}, {17, 8, 128}, {3, 7, 96}, {4, 3, 20}};
        for (int[] s : ropeShapes) {
            for (RotaryEmbedding.Style style : RotaryEmbedding.Style.values()) out.add(rope(device, p, rnd, s[0], s[1], s[2], style));
        }
        out.add(ropeOutsideTables(device, p, rnd));
        int[][] qkShapes = options.quick() ? new int[][] {{5, 4, 2, 64}} : new int[][] {{1, 1, 1, 2}, {5, 4, 2, 64}, {17, 8, 2, 128}, {3, 7, 1, 96}, {4, 6, 3, 20}};
        for (int[] s : qkShapes) {
            for (RotaryEmbedding.Style style : RotaryEmbedding.Style.values()) out.add(ropeQueryKey(device, p, rnd, s[0], s[1], s[2], s[3], style));
        }
        int[][] normShapes = options.quick() ? new int[][] {{3, 2048}} : new int[][] {{1, 1}, {3, 17}, {7, 2048}, {2, 4099}};
        for (int[] s : normShapes) out.add(rmsNorm(device, p, rnd, s[0], s[1], false));
        out.add(rmsNorm(device, p, rnd, 3, 64, true));
        for (int n : options.quick() ? new int[] {1000} : new int[] {1, 17, 8192, 100003}) out.add(siluGate(device, p, rnd, n));
        Quantize quantize = new Quantize(device);
        for (int[] s : options.quick() ? new int[][] {{3, 2048}} : new int[][] {{1, 32}, {5, 96}, {7, 2048}, {2, 4128}}) {
            out.addAll(rmsNormBlockInt8(device, p, quantize, rnd, s[0], s[1], false));
        }
        out.addAll(rmsNormBlockInt8(device, p, quantize, rnd, 3, 64, true));
        for (DecoderKernels.Gate gate : DecoderKernels.Gate.values()) {
            for (int n : options.quick() ? new int[] {1184} : new int[] {32, 96, 8192, 100000}) out.addAll(gateBlockInt8(device, p, quantize, rnd, gate, n, false));
            out.addAll(gateBlockInt8(device, p, quantize, rnd, gate, 96, true));
        }
        for (int[] s : options.quick() ? new int[][] {{2, 5, 33}} : new int[][] {{1, 1, 1}, {2, 5, 33}, {1, 129, 2048}}) {
            out.add(lastToken(device, p, rnd, s[0], s[1], s[2]));
        }
        out.addAll(DemoModelGreedyCheck.run(op(), device, DemoModel.resolve(OffloadSettings.current().cache(), DemoModel.Variant.Q8_0),
                options.quick()));
        return out;
    }

    static KernelLauncher direct(OpenClDevice device) {
        return (k, global, local) -> { try (Event e = device.launch(k, global, local)) { e.await(); } };
    }

    private CheckResult rope(OpenClDevice device, Program p, SplittableRandom rnd, int tokens, int heads, int headDim,
                             RotaryEmbedding.Style style) {
        int positions = 4096;
        RotaryEmbedding rope = RotaryEmbedding.of(heads, headDim, style, 500000f, positions);
        float[] x = floats(rnd, tokens * heads * headDim, 3);
        int[] pos = new int[tokens];
        for (int t = 0; t < tokens; t++) pos[t] = t == 0 ? positions - 1 : t == 1 ? 0 : rnd.nextInt(positions);
        float[] want = LayersReference.rope(x, pos, rope);
        try (Buffer xb = device.upload(x); Buffer pb = device.upload(pos); Buffer cb = device.upload(rope.cos());
             Buffer sb = device.upload(rope.sin()); GuardedOutput y = GuardedOutput.floats(device, x.length)) {
            DecoderKernels.rope(p, direct(device), rope, xb, pb, cb, sb, y.buffer(), tokens);
            return Compare.exact(op(), "rope " + style.name().toLowerCase(java.util.Locale.ROOT) + " " + tokens + "x" + heads + "x" + headDim
                    + " [bits]", device.spec(), bits(want), bits(y.readFloats()), y.guardsIntact());
        }
    }

    /** rope_query_key: [q bits..., k bits...] against the reference's rope of each, positions at both ends and one outside. */
    private CheckResult ropeQueryKey(OpenClDevice device, Program p, SplittableRandom rnd, int tokens, int qHeads, int kHeads, int headDim,
                                     RotaryEmbedding.Style style) {
        int positions = 4096;
        RotaryEmbedding query = RotaryEmbedding.of(qHeads, headDim, style, 10000f, positions), key = query.withHeads(kHeads);
        float[] q = floats(rnd, tokens * qHeads * headDim, 3), k = floats(rnd, tokens * kHeads * headDim, 3);
        int[] pos = new int[tokens];
        for (int t = 0; t < tokens; t++) pos[t] = t == 0 ? positions - 1 : t == 1 ? 0 : t == 2 ? positions : rnd.nextInt(positions);
        float[] wantQ = LayersReference.rope(q, pos, query), wantK = LayersReference.rope(k, pos, key);
        try (Buffer qb = device.upload(q); Buffer kb = device.upload(k); Buffer pb = device.upload(pos); Buffer cb = device.upload(query.cos());
             Buffer sb = device.upload(query.sin()); GuardedOutput yq = GuardedOutput.floats(device, q.length);
             GuardedOutput yk = GuardedOutput.floats(device, k.length)) {
            DecoderKernels.ropeQueryKey(p, direct(device), query, key, qb, kb, pb, cb, sb, yq.buffer(), yk.buffer(), tokens);
            return Compare.exact(op(), "rope_query_key " + style.name().toLowerCase(java.util.Locale.ROOT) + " " + tokens + "x(" + qHeads + "+"
                    + kHeads + ")x" + headDim + (tokens > 2 ? " one position outside" : "") + " [q bits, k bits]", device.spec(),
                    concat(bits(wantQ), bits(wantK)), concat(bits(yq.readFloats()), bits(yk.readFloats())), yq.guardsIntact() && yk.guardsIntact());
        }
    }

    static int[] concat(int[] a, int[] b) {
        int[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    private CheckResult ropeOutsideTables(OpenClDevice device, Program p, SplittableRandom rnd) {
        RotaryEmbedding rope = RotaryEmbedding.of(2, 8, RotaryEmbedding.Style.ADJACENT_PAIRS, 10000f, 16);
        float[] x = floats(rnd, 3 * 16, 1);
        int[] pos = {15, 16, -1};
        float[] want = LayersReference.rope(x, pos, rope);
        try (Buffer xb = device.upload(x); Buffer pb = device.upload(pos); Buffer cb = device.upload(rope.cos());
             Buffer sb = device.upload(rope.sin()); GuardedOutput y = GuardedOutput.floats(device, x.length)) {
            DecoderKernels.rope(p, direct(device), rope, xb, pb, cb, sb, y.buffer(), 3);
            return Compare.exact(op(), "rope positions 15,16,-1 of 16 [NaN outside]", device.spec(), nanClass(want), nanClass(y.readFloats()),
                    y.guardsIntact());
        }
    }

    private CheckResult rmsNorm(OpenClDevice device, Program p, SplittableRandom rnd, int rows, int cols, boolean specials) {
        float[] x = floats(rnd, rows * cols, 4), gamma = floats(rnd, cols, 2);
        if (specials) {
            x[0] = Float.NaN;                          // row 0: NaN everywhere
            x[cols + 1] = Float.POSITIVE_INFINITY;     // row 1: inf/inf = NaN, the rest 0
        }
        float[] want = LayersReference.rmsNorm(x, cols, gamma, 1e-5f);
        try (Buffer xb = device.upload(x); Buffer gb = device.upload(gamma); GuardedOutput y = GuardedOutput.floats(device, x.length)) {
            DecoderKernels.rmsNorm(p, direct(device), device.rowsLocalSize(rows), xb, gb, y.buffer(), rows, cols, 1e-5f);
            float[] got = y.readFloats();
            String shape = "rms_norm " + rows + "x" + cols;
            if (!specials) return Compare.relative(op(), shape, device.spec(), want, got, NORM_BOUND, y.guardsIntact());
            return Compare.exact(op(), shape + " NaN/Inf rows [NaN, inf, finite]", device.spec(), nanClass(want), nanClass(got), y.guardsIntact());
        }
    }

    private CheckResult siluGate(OpenClDevice device, Program p, SplittableRandom rnd, int n) {
        float[] a = floats(rnd, n, 6), b = floats(rnd, n, 2);
        float[] want = LayersReference.siluGate(a, b);
        try (Buffer ab = device.upload(a); Buffer bb = device.upload(b); GuardedOutput y = GuardedOutput.floats(device, n)) {
            DecoderKernels.siluGate(p, direct(device), ab, bb, y.buffer(), n);
            return Compare.relative(op(), "silu_gate n=" + n, device.spec(), want, y.readFloats(), SILU_BOUND, y.guardsIntact());
        }
    }

    /** A fused kernel's outputs, in guarded buffers: int8 data, a scale per block of 32, the one zero point. */
    private record BlockOutputs(GuardedOutput q, GuardedOutput scales, GuardedOutput zero) implements AutoCloseable {
        static BlockOutputs of(OpenClDevice device, int n) {
            return new BlockOutputs(GuardedOutput.bytes(device, n), GuardedOutput.floats(device, n / 32), GuardedOutput.ints(device, 1));
        }

        boolean guardsIntact() { return q.guardsIntact() && scales.guardsIntact() && zero.guardsIntact(); }

        /** [scale bits (one NaN pattern)..., q..., zero point]. */
        int[] flat() { return flat(scales.readFloats(), q.readBytes(), zero.readInts()[0]); }

        static int[] flat(float[] scales, byte[] q, int zero) {
            int[] f = new int[scales.length + q.length + 1];
            for (int b = 0; b < scales.length; b++) f[b] = Float.floatToIntBits(scales[b]);
            for (int i = 0; i < q.length; i++) f[scales.length + i] = q[i];
            f[f.length - 1] = zero;
            return f;
        }

        /** q * scale, what a block-quantized linear reads. */
        float[] dequantized() { return dequantize(q.readBytes(), scales.readFloats()); }

        @Override public void close() {
            q.close();
            scales.close();
            zero.close();
        }
    }

    private static float[] dequantize(byte[] q, float[] scales) {
        float[] y = new float[q.length];
        for (int i = 0; i < q.length; i++) y[i] = q[i] * scales[i / 32];
        return y;
    }

    /** The unfused pair's result on the device: {@code producer} writes floats into a buffer, block_int8 quantizes them. */
    private static int[] unfused(OpenClDevice device, Quantize quantize, int rows, int cols, java.util.function.Consumer<Buffer> producer) {
        int n = rows * cols;
        try (Buffer y = device.context().createBuffer(4L * n); Buffer q = device.context().createBuffer(n);
             Buffer s = device.context().createBuffer(4L * n / 32); Buffer z = device.context().createBuffer(4)) {
            producer.accept(y);
            quantize.enqueuePerBlockInt8(y, rows, cols, q, s, z, direct(device));
            return BlockOutputs.flat(device.readFloats(s, n / 32), device.readBytes(q, n), device.readInts(z, 1)[0]);
        }
    }

    /** The two checks of a fused kernel: against the unfused kernels (bits), against the reference (dequantized). */
    private List<CheckResult> fusedChecks(OpenClDevice device, String shape, int[] unfused, BlockOutputs got, float[] want) {
        CheckResult same = Compare.exact(op(), shape + " = unfused kernels [scales, q..., zp]", device.spec(), unfused, got.flat(), got.guardsIntact());
        return List.of(same, judged(device, shape, got, want));
    }

    /**
     * A block-quantized result against the reference's: q * scale within the block quantization's bound, or, where the
     * reference has NaN or infinities, which scales are NaN and those blocks' q.
     */
    private CheckResult judged(OpenClDevice device, String shape, BlockOutputs got, float[] want) {
        QuantizeReference.Quantized ref = QuantizeReference.perBlockInt8(want, 1, want.length);
        boolean specials = false;
        for (float v : want) specials |= !Float.isFinite(v);
        return specials
                ? Compare.exact(op(), shape + " vs reference [NaN scales, q...]", device.spec(),
                        nanScalesAndQ(ref.scales(), ref.data()), nanScalesAndQ(got.scales().readFloats(), got.q().readBytes()), got.guardsIntact())
                : Compare.relative(op(), shape + " vs reference [q * scale]", device.spec(), want, got.dequantized(), BLOCK_Q_BOUND, got.guardsIntact());
    }

    /** NaN-ness of each scale, then the data of the NaN blocks (0: NaN saturates to 0); finite blocks are checked elsewhere. */
    private static int[] nanScalesAndQ(float[] scales, byte[] q) {
        int[] f = new int[scales.length + q.length];
        for (int b = 0; b < scales.length; b++) f[b] = Float.isNaN(scales[b]) ? 1 : 0;
        for (int i = 0; i < q.length; i++) f[scales.length + i] = Float.isNaN(scales[i / 32]) ? q[i] : 0;
        return f;
    }

    private List<CheckResult> rmsNormBlockInt8(OpenClDevice device, Program p, Quantize quantize, SplittableRandom rnd, int rows, int cols,
                                               boolean specials) {
        float[] x = floats(rnd, rows * cols, 4), gamma = floats(rnd, cols, 2);
        if (specials) x[cols + 5] = Float.NaN;   // row 1: NaN everywhere
        float[] want = LayersReference.rmsNorm(x, cols, gamma, 1e-5f);
        long[] local = device.rowsLocalSize(rows);
        try (Buffer xb = device.upload(x); Buffer gb = device.upload(gamma); BlockOutputs got = BlockOutputs.of(device, x.length)) {
            DecoderKernels.rmsNormBlockInt8(p, direct(device), local, xb, gb, rows, cols, 1e-5f, got.q().buffer(), got.scales().buffer(),
                    got.zero().buffer());
            int[] unfused = unfused(device, quantize, rows, cols, y -> DecoderKernels.rmsNorm(p, direct(device), local, xb, gb, y, rows, cols, 1e-5f));
            return fusedChecks(device, "rms_norm_block_int8 " + rows + "x" + cols + (specials ? " NaN row" : ""), unfused, got, want);
        }
    }

    /**
     * A gated product quantized per block (silu_gate_block_int8, gelu_gate_block_int8) against the reference; SwiGLU's
     * also bit for bit against its unfused kernels (silu_gate, then block_int8). GeGLU's has no unfused twin (no graph
     * runs GELU's gate apart from its quantization), and GELU's float32 rounding (~1e-6 relative) is far inside the
     * block quantization's bound. A NaN gate value makes its block's scale NaN and its q 0, as the reference's.
     */
    private List<CheckResult> gateBlockInt8(OpenClDevice device, Program p, Quantize quantize, SplittableRandom rnd, DecoderKernels.Gate gate,
                                            int n, boolean specials) {
        float[] a = floats(rnd, n, 6), b = floats(rnd, n, 2);
        if (specials) a[32 + 7] = Float.NaN;   // block 1: NaN scale
        boolean silu = gate == DecoderKernels.Gate.SILU;
        float[] want = silu ? LayersReference.siluGate(a, b) : LayersReference.geluGate(a, b);
        try (Buffer ab = device.upload(a); Buffer bb = device.upload(b); BlockOutputs got = BlockOutputs.of(device, n)) {
            DecoderKernels.gateBlockInt8(p, gate, direct(device), device.rowsLocalSize(n / 32), ab, bb, n, got.q().buffer(), got.scales().buffer(),
                    got.zero().buffer());
            String shape = gate.kernel + " n=" + n + (specials ? " NaN block" : "");
            if (!silu) return List.of(judged(device, shape, got, want));
            int[] unfused = unfused(device, quantize, 1, n, y -> DecoderKernels.siluGate(p, direct(device), ab, bb, y, n));
            return fusedChecks(device, shape, unfused, got, want);
        }
    }

    private CheckResult lastToken(OpenClDevice device, Program p, SplittableRandom rnd, int batch, int seq, int cols) {
        float[] x = floats(rnd, batch * seq * cols, 1);
        float[] want = LayersReference.lastToken(x, batch, seq, cols);
        try (Buffer xb = device.upload(x); GuardedOutput y = GuardedOutput.floats(device, batch * cols)) {
            DecoderKernels.lastToken(p, direct(device), xb, y.buffer(), batch, seq, cols);
            return Compare.exact(op(), "last_token " + batch + "x" + seq + "x" + cols + " [bits]", device.spec(), bits(want), bits(y.readFloats()),
                    y.guardsIntact());
        }
    }

    static int[] bits(float[] v) {
        int[] b = new int[v.length];
        for (int i = 0; i < v.length; i++) b[i] = Float.floatToIntBits(v[i]);   // one NaN pattern: NaN payloads are not compared
        return b;
    }

    /** 0 finite, 1 NaN, 2 +inf, 3 -inf: where the specials must agree (finite values are checked elsewhere). */
    static int[] nanClass(float[] v) {
        int[] c = new int[v.length];
        for (int i = 0; i < v.length; i++) c[i] = Float.isNaN(v[i]) ? 1 : v[i] == Float.POSITIVE_INFINITY ? 2 : v[i] == Float.NEGATIVE_INFINITY ? 3 : 0;
        return c;
    }

    static float[] floats(SplittableRandom rnd, int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (rnd.nextDouble(-1, 1) * scale);
        return a;
    }
}
