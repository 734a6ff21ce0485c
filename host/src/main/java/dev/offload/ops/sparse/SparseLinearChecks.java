package dev.offload.ops.sparse;

import dev.offload.cl.Buffer;
import dev.offload.device.OpenClDevice;
import dev.offload.graph.SparseFormat;
import dev.offload.ops.gemm.Activation;
import dev.offload.ops.gemm.Int8GemmReference;
import dev.offload.validate.CheckResult;
import dev.offload.validate.Compare;
import dev.offload.validate.GuardedOutput;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The sparse linear layer's share of {@code validate --ops spmm}: the graph's token-major kernels ({@link BsrLinear}'s
 * block-sparse one for bsr:16x4, bsr:32x4 and bsr:4x4 weights, sparse_linear_csr, sparse_linear_24) through
 * {@link Spmm#uploadLinearWeight} and {@link Spmm#enqueueLinear}, judged by the dense int8 linear's reference
 * ({@link Int8GemmReference#accumulate} and {@link Int8GemmReference#int8Linear} of the pruned weight). Shapes where
 * T, N and K are not multiples of the token tile, the 16/32-channel blocks or the 4-k group; uint8 and int8
 * activations, scales and zero points per tensor and per row, every activation, into guarded, poisoned outputs.
 * The same integer sums and float operations as the reference: equal results (bound 0), except the double-precision
 * reference functions of GELU_TANH and SILU (bound 1e-6).
 */
final class SparseLinearChecks {
    private static final String[] FORMATS = {"bsr:16x4", "bsr:32x4", "bsr:4x4", "csr", "2:4"};

    private SparseLinearChecks() {}

    /** One layer: T tokens, K in, N out, sparsity, activation, uint8 or int8 activations, per-row or per-tensor quantization. */
    private record Case(int t, int k, int n, double sparsity, Activation act, boolean unsigned, boolean perRow) {
        String describe(String format) {
            return "linear " + format + " T=" + t + " K=" + k + " N=" + n + " sparsity=" + sparsity + " " + act
                    + (unsigned ? " uint8" : " int8") + (perRow ? " per-row" : " per-tensor");
        }
    }

    private static List<Case> cases(boolean quick) {
        List<Case> quickCases = List.of(new Case(1, 1, 1, 0, Activation.NONE, true, false),
                new Case(13, 37, 33, 0.5, Activation.GELU_ERF, false, true), new Case(9, 130, 47, 0.9, Activation.RELU, true, true));
        if (quick) return quickCases;
        List<Case> all = new ArrayList<>(quickCases);
        all.addAll(List.of(new Case(3, 7, 17, 0.5, Activation.NONE, false, false),
                new Case(17, 61, 95, 0.7, Activation.GELU_TANH, false, true),
                new Case(64, 384, 384, 0.9, Activation.GELU_ERF, true, false),
                new Case(33, 203, 31, 0, Activation.SILU, false, false),
                new Case(100, 1536, 40, 0.8, Activation.NONE, true, true)));
        return all;
    }

    static List<CheckResult> run(String op, OpenClDevice device, Random rnd, boolean quick) {
        List<CheckResult> out = new ArrayList<>();
        for (Case c : cases(quick)) {
            for (String format : FORMATS) out.add(check(op, device, rnd, c, format));
        }
        return out;
    }

    private static CheckResult check(String op, OpenClDevice device, Random rnd, Case c, String format) {
        SparseFormat f = SparseFormat.parse(format);
        byte[] w = prunedWeight(rnd, c, f);
        byte[] a = nonZeroInt8(rnd, c.t() * c.k());
        int rows = c.perRow() ? c.t() : 1;
        int[] za = new int[rows];
        float[] sa = new float[rows], sw = new float[c.n()], bias = new float[c.n()];
        for (int i = 0; i < rows; i++) { za[i] = c.unsigned() ? rnd.nextInt(256) : rnd.nextInt(256) - 128; sa[i] = 1e-3f + rnd.nextFloat() * 0.05f; }
        for (int j = 0; j < c.n(); j++) { sw[j] = 1e-3f + rnd.nextFloat() * 0.05f; bias[j] = rnd.nextFloat() * 2 - 1; }
        float[] b = c.act() == Activation.NONE ? null : bias;   // NONE runs without a bias, the others with one
        int[] acc = Int8GemmReference.accumulate(a, c.unsigned(), za, Int8GemmReference.widen(w, (byte[]) null, c.n()), c.t(), c.k(), c.n());
        float[] want = Int8GemmReference.int8Linear(acc, c.t(), c.n(), sa, sw, b, c.act());
        Spmm spmm = new Spmm(device);
        try (Spmm.DeviceMatrix dw = spmm.uploadLinearWeight(w, c.k(), c.n(), f); Buffer ab = device.upload(a);
             Buffer zb = device.upload(za); Buffer sab = device.upload(sa); Buffer swb = device.upload(sw);
             Buffer bb = b == null ? null : device.upload(b); GuardedOutput y = GuardedOutput.floats(device, c.t() * c.n())) {
            spmm.enqueueLinear(dw, new Spmm.Activations(ab, c.unsigned(), c.t(), sab, zb, c.perRow()), swb, bb, c.act(), y.buffer(),
                    (k, global, local) -> device.launch(k, global, local).await().close());
            double bound = c.act() == Activation.GELU_TANH || c.act() == Activation.SILU ? 1e-6 : 0;
            return Compare.relative(op, c.describe(format), device.spec(), want, y.readFloats(), bound, y.guardsIntact());
        }
    }

    /** W [K, N] pruned as the format prunes: whole blocks of W^T (bsr), per output channel (csr), 2:4 along K. */
    private static byte[] prunedWeight(Random rnd, Case c, SparseFormat f) {
        DenseMatrix wt = DenseMatrix.ofInt8(c.n(), c.k(), nonZeroInt8(rnd, c.n() * c.k()));
        DenseMatrix pruned = switch (f.kind()) {
            case BSR -> Pruning.blocks(wt, f.blockRows(), f.blockCols(), c.sparsity(), Pruning.BlockNorm.L2);
            case CSR -> Pruning.magnitude(wt, c.sparsity());
            case TWO_FOUR -> Pruning.twoFour(wt);
        };
        byte[] pt = ((Values.Int8) pruned.values()).data();
        byte[] w = new byte[pt.length];
        for (int kk = 0; kk < c.k(); kk++) for (int j = 0; j < c.n(); j++) w[kk * c.n() + j] = pt[j * c.k() + kk];
        return w;
    }

    private static byte[] nonZeroInt8(Random rnd, int count) {
        byte[] b = new byte[count];
        for (int i = 0; i < count; i++) { int v; do v = rnd.nextInt(256) - 128; while (v == 0); b[i] = (byte) v; }
        return b;
    }
}
