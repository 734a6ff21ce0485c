package dev.offload.ops.layers;

import dev.offload.cl.Buffer;
import dev.offload.cl.Event;
import dev.offload.cl.Program;
import dev.offload.device.KernelLauncher;
import dev.offload.device.OpenClDevice;
import dev.offload.graph.RotaryEmbedding;
import dev.offload.kernels.KernelFamily;
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
 * regions: rope (both layouts, positions at both ends of the tables, odd head counts) bit for bit, since both sides
 * make the same float products and sums; last_token exactly; rms_norm and silu_gate within the float32 bounds that
 * LayersOpenClTest justifies (2e-5 for norms of up to a few thousand terms, 1e-5 for silu's exp). NaN and infinities
 * go in as the reference takes them: a NaN row stays NaN through rms_norm, a position outside the tables gives NaN.
 */
public final class DecoderLayersValidator implements OpValidator {
    private static final double NORM_BOUND = 2e-5, SILU_BOUND = 1e-5;

    @Override public String op() { return "decoder_layers"; }

    @Override
    public List<CheckResult> validate(OpenClDevice device, ValidationOptions options) {
        SplittableRandom rnd = new SplittableRandom(options.seed());
        Program p = device.program(KernelFamily.LAYERS, LayersOpenCl.buildOptions());
        List<CheckResult> out = new ArrayList<>();
        int[][] ropeShapes = options.quick() ? new int[][] {{5, 3, 64}} : new int[][] {{1, 1, 2}, {5, 3, 64}, {17, 8, 128}, {3, 7, 96}};
        for (int[] s : ropeShapes) {
            for (RotaryEmbedding.Style style : RotaryEmbedding.Style.values()) out.add(rope(device, p, rnd, s[0], s[1], s[2], style));
        }
        out.add(ropeOutsideTables(device, p, rnd));
        int[][] normShapes = options.quick() ? new int[][] {{3, 2048}} : new int[][] {{1, 1}, {3, 17}, {7, 2048}, {2, 4099}};
        for (int[] s : normShapes) out.add(rmsNorm(device, p, rnd, s[0], s[1], false));
        out.add(rmsNorm(device, p, rnd, 3, 64, true));
        for (int n : options.quick() ? new int[] {1000} : new int[] {1, 17, 8192, 100003}) out.add(siluGate(device, p, rnd, n));
        for (int[] s : options.quick() ? new int[][] {{2, 5, 33}} : new int[][] {{1, 1, 1}, {2, 5, 33}, {1, 129, 2048}}) {
            out.add(lastToken(device, p, rnd, s[0], s[1], s[2]));
        }
        return out;
    }

    private static KernelLauncher direct(OpenClDevice device) {
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

    private CheckResult lastToken(OpenClDevice device, Program p, SplittableRandom rnd, int batch, int seq, int cols) {
        float[] x = floats(rnd, batch * seq * cols, 1);
        float[] want = LayersReference.lastToken(x, batch, seq, cols);
        try (Buffer xb = device.upload(x); GuardedOutput y = GuardedOutput.floats(device, batch * cols)) {
            DecoderKernels.lastToken(p, direct(device), xb, y.buffer(), batch, seq, cols);
            return Compare.exact(op(), "last_token " + batch + "x" + seq + "x" + cols + " [bits]", device.spec(), bits(want), bits(y.readFloats()),
                    y.guardsIntact());
        }
    }

    private static int[] bits(float[] v) {
        int[] b = new int[v.length];
        for (int i = 0; i < v.length; i++) b[i] = Float.floatToIntBits(v[i]);   // one NaN pattern: NaN payloads are not compared
        return b;
    }

    /** 0 finite, 1 NaN, 2 +inf, 3 -inf: where the specials must agree (finite values are checked elsewhere). */
    private static int[] nanClass(float[] v) {
        int[] c = new int[v.length];
        for (int i = 0; i < v.length; i++) c[i] = Float.isNaN(v[i]) ? 1 : v[i] == Float.POSITIVE_INFINITY ? 2 : v[i] == Float.NEGATIVE_INFINITY ? 3 : 0;
        return c;
    }

    private static float[] floats(SplittableRandom rnd, int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (rnd.nextDouble(-1, 1) * scale);
        return a;
    }
}
