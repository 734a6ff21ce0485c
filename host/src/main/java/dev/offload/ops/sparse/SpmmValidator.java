package dev.offload.ops.sparse;

import dev.offload.cl.Buffer;
import dev.offload.cl.Event;
import dev.offload.device.OpenClDevice;
import dev.offload.tensor.DType;
import dev.offload.validate.CheckResult;
import dev.offload.validate.Compare;
import dev.offload.validate.GuardedOutput;
import dev.offload.validate.OpValidator;
import dev.offload.validate.ValidationOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Validates the spmm kernels against {@link SpmmReference}: every format (CSR, BSR 1x4 / 4x4 / 8x8 / 3x5, 2:4)
 * x int8 / float32 over shapes with ones, primes, N = 1, N not a multiple of the 32-column tile, blocks that do
 * not divide M or K, sparsities 0 / 0.5 / 0.9 / 0.99 and rows with no values; plus the dequantize epilogue, and the
 * graph's sparse linear layer in every format ({@link SparseLinearChecks}: the block-sparse kernel, CSR, 2:4).
 * int8 results must be bit-exact; float32 within {@link SpmmTolerance#relativeBound}. Outputs are guarded
 * and poisoned. {@code --quick} runs a subset in a few seconds.
 */
public final class SpmmValidator implements OpValidator {

    private static final String[] FORMATS = {"csr", "bsr:1x4", "bsr:4x4", "bsr:8x8", "bsr:3x5", "2:4"};

    @Override public String op() { return "spmm"; }

    /** One check: M, K, N, sparsity, and whether every third row is emptied before pruning. */
    private record Case(int m, int k, int n, double sparsity, boolean emptyRows) {
        String describe(String format, DType t) {
            return format + " " + t.numpyName() + " M=" + m + " K=" + k + " N=" + n + " sparsity=" + sparsity
                    + (emptyRows ? " empty-rows" : "");
        }
    }

    private static List<Case> cases(boolean quick) {
        if (quick) {
            return List.of(new Case(1, 1, 1, 0, false), new Case(13, 37, 33, 0.5, false),
                    new Case(17, 61, 1, 0.9, true));
        }
        return List.of(new Case(1, 1, 1, 0, false), new Case(7, 13, 5, 0, false), new Case(13, 37, 33, 0.5, false),
                new Case(29, 101, 97, 0.9, false), new Case(17, 61, 1, 0.9, true), new Case(64, 256, 64, 0.99, false),
                new Case(31, 129, 65, 0.5, true), new Case(3, 1031, 40, 0.9, false), new Case(128, 384, 160, 0.75, false));
    }

    @Override
    public List<CheckResult> validate(OpenClDevice device, ValidationOptions options) {
        Spmm spmm = new Spmm(device);
        Random rnd = new Random(options.seed());
        List<CheckResult> out = new ArrayList<>();
        for (DType type : List.of(DType.INT8, DType.FLOAT32)) {
            for (String format : FORMATS) {
                for (Case c : cases(options.quick())) {
                    SparseMatrix s = sparse(randomDense(rnd, type, c), format, c.sparsity());
                    out.add(check(spmm, s, rnd, c.n(), c.describe(format, type)));
                }
            }
        }
        out.add(checkDequantize(spmm, rnd, options.quick()));
        out.addAll(SparseLinearChecks.run(op(), device, rnd, options.quick()));
        return out;
    }

    private CheckResult check(Spmm spmm, SparseMatrix s, Random rnd, int n, String shape) {
        OpenClDevice d = spmm.device();
        int count = s.rows() * n;
        boolean int8 = s.dtype() == DType.INT8;
        byte[] b8 = int8 ? randomInt8(rnd, s.cols() * n) : null;
        float[] bf = int8 ? null : randomFloat32(rnd, s.cols() * n);
        try (Spmm.DeviceMatrix ds = spmm.upload(s); Buffer b = int8 ? d.upload(b8) : d.upload(bf);
             GuardedOutput y = int8 ? GuardedOutput.ints(d, count) : GuardedOutput.floats(d, count)) {
            try (Event e = spmm.enqueue(ds, b, n, y.buffer())) {
                if (e != null) e.await();
            }
            if (int8) {
                return Compare.exact(op(), shape, d.spec(), SpmmReference.multiplyInt8(s, b8, n), y.readInts(), y.guardsIntact());
            }
            float[] want = SpmmReference.multiplyFloat32(s, bf, n);
            return Compare.relative(op(), shape, d.spec(), want, y.readFloats(),
                    SpmmTolerance.relativeBound(s, bf, n, want), y.guardsIntact());
        }
    }

    private CheckResult checkDequantize(Spmm spmm, Random rnd, boolean quick) {
        OpenClDevice d = spmm.device();
        int m = quick ? 9 : 47, k = quick ? 30 : 203, n = quick ? 17 : 71;
        SparseMatrix s = sparse(randomDense(rnd, DType.INT8, new Case(m, k, n, 0.9, false)), "csr", 0.9);
        byte[] b = randomInt8(rnd, k * n);
        float[] scales = new float[m], bias = new float[m];
        for (int i = 0; i < m; i++) { scales[i] = 1e-3f + rnd.nextFloat() * 0.1f; bias[i] = rnd.nextFloat() * 2 - 1; }
        float bScale = 0.02f;
        float[] want = SpmmReference.dequantize(SpmmReference.multiplyInt8(s, b, n), m, n, scales, bScale, bias);
        try (Spmm.DeviceMatrix ds = spmm.upload(s); Buffer bb = d.upload(b);
             Buffer acc = d.context().createBuffer(4L * m * n); Buffer sc = d.upload(scales); Buffer bi = d.upload(bias);
             GuardedOutput y = GuardedOutput.floats(d, m * n)) {
            spmm.enqueue(ds, bb, n, acc).close();
            try (Event e = spmm.enqueueDequantize(acc, m, n, sc, bScale, bi, y.buffer())) { e.await(); }
            // Same float operations in the same order, no contraction: bit-exact.
            return Compare.relative(op(), "dequantize csr M=" + m + " K=" + k + " N=" + n, d.spec(), want,
                    y.readFloats(), 0, y.guardsIntact());
        }
    }

    private static DenseMatrix randomDense(Random rnd, DType type, Case c) {
        int size = c.m() * c.k();
        Values v = type == DType.INT8 ? new Values.Int8(randomInt8(rnd, size)) : new Values.Float32(randomFloat32(rnd, size));
        if (c.emptyRows()) {
            Values z = v.zeros(size);
            for (int i = 0; i < size; i++) if ((i / c.k()) % 3 != 1) v.copy(i, z, i);
            v = z;
        }
        return new DenseMatrix(c.m(), c.k(), v);
    }

    private static SparseMatrix sparse(DenseMatrix dense, String format, double sparsity) {
        DenseMatrix pruned = Pruning.magnitude(dense, sparsity);
        if (format.equals("2:4")) return Sparse24Matrix.fromDense(Pruning.twoFour(pruned));
        if (format.equals("csr")) return CsrMatrix.fromDense(pruned);
        String[] rc = format.substring("bsr:".length()).split("x");
        return BsrMatrix.fromDense(pruned, Integer.parseInt(rc[0]), Integer.parseInt(rc[1]));
    }

    private static byte[] randomInt8(Random rnd, int count) {
        byte[] b = new byte[count];
        for (int i = 0; i < count; i++) { int v; do v = rnd.nextInt(256) - 128; while (v == 0); b[i] = (byte) v; }
        return b;
    }

    private static float[] randomFloat32(Random rnd, int count) {
        float[] f = new float[count];
        for (int i = 0; i < count; i++) { float v; do v = rnd.nextFloat() * 2 - 1; while (v == 0); f[i] = v; }
        return f;
    }
}
