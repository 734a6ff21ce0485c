package dev.offload.bench;

import dev.offload.cl.Buffer;
import dev.offload.cl.Event;
import dev.offload.device.OpenClDevice;
import dev.offload.ops.gemm.Epilogue;
import dev.offload.ops.gemm.Int8Gemm;
import dev.offload.ops.gemm.Int8Matrix;
import dev.offload.ops.gemm.PackedWeights;
import dev.offload.ops.gemm.ZeroPoint;
import dev.offload.ops.quant.QuantType;
import dev.offload.ops.sparse.CsrMatrix;
import dev.offload.ops.sparse.DenseMatrix;
import dev.offload.ops.sparse.Pruning;
import dev.offload.ops.sparse.SparseMatrix;
import dev.offload.ops.sparse.Sparse24Matrix;
import dev.offload.ops.sparse.Spmm;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Sparse weights against dense ones on the same device: {@code Y = S x B} with S the pruned int8 weight
 * [out, in] (CSR at several sparsities, and 2:4) and B the int8 activations [in, tokens], against the dense INT8
 * GEMM of the same product as the model runs it (activations [tokens, in] x packed W^T [in, out]). Ratio =
 * dense time / sparse time (>1: the sparse kernel is faster). Wall times of enqueue + finish, S and B already on
 * the device.
 */
final class SparseBench {
    private SparseBench() {}

    /** The product: weight [out][in], {@code tokens} activation columns. */
    record Shape(String label, int out, int in, int tokens) {
        String name() { return label + " W" + out + "x" + in + " x " + tokens + " tokens"; }
    }

    static List<Shape> shapes(boolean quick) {
        return quick ? List.of(new Shape("square", 512, 512, 512), new Shape("minilm-ffn1", 1536, 384, 512))
                : List.of(new Shape("square", 1024, 1024, 1024), new Shape("minilm-ffn1", 1536, 384, 4096));
    }

    static double[] sparsities(boolean quick) { return quick ? new double[] {0.5, 0.9} : new double[] {0.5, 0.75, 0.9, 0.95}; }

    static void run(Report report, OpenClDevice device, boolean quick) {
        int warmup = quick ? 1 : 2, reps = quick ? 3 : 9;
        double cap = quick ? 1 : 5;
        Spmm spmm = new Spmm(device);
        Int8Gemm gemm = Int8Gemm.on(device);
        for (Shape s : shapes(quick)) {
            SplittableRandom rnd = new SplittableRandom(s.out() * 17L + s.tokens());
            byte[] w = nonZeroInt8(rnd, (long) s.out() * s.in());
            byte[] b = nonZeroInt8(rnd, (long) s.in() * s.tokens());
            DenseMatrix dense = DenseMatrix.ofInt8(s.out(), s.in(), w);

            // Dense: X [tokens][in] = B^T, weights W^T [in][out] packed once.
            Timing.Sample denseTime;
            try (PackedWeights packed = gemm.pack(new Int8Matrix(QuantType.INT8, s.in(), s.out(), transpose(w, s.out(), s.in())),
                         ZeroPoint.scalar(0));
                 Buffer x = device.upload(transpose(b, s.in(), s.tokens()));
                 Buffer y = device.context().createBuffer(4L * s.tokens() * s.out())) {
                denseTime = Timing.medians(warmup, reps, cap, () -> {
                    long t0 = System.nanoTime();
                    long kernel = gemm.run(x, QuantType.INT8, s.tokens(), ZeroPoint.scalar(0), packed, Epilogue.INT32, y);
                    return new Timing.Sample(System.nanoTime() - t0, kernel);
                });
            }
            double ops = 2.0 * s.out() * s.in() * s.tokens();
            report.add(new BenchRow("sparse", s.name(), "offload-dense-gemm", device.spec(), denseTime.wallNanos() / 1e6,
                    ops / denseTime.wallNanos(), "GOPS", 1.0, String.format(Locale.ROOT,
                    "Int8Gemm X[tokens,in] x W^T; kernel %.3f ms", denseTime.deviceNanos() / 1e6)));

            try (Buffer bb = device.upload(b); Buffer y = device.context().createBuffer(4L * s.out() * s.tokens())) {
                for (double sparsity : sparsities(quick)) {
                    SparseMatrix csr = CsrMatrix.fromDense(Pruning.magnitude(dense, sparsity));
                    add(report, device, spmm, s, csr, String.format(Locale.ROOT, "csr %.0f%%", 100 * sparsity),
                            bb, y, denseTime, ops, warmup, reps, cap);
                }
                SparseMatrix twoFour = Sparse24Matrix.fromDense(Pruning.twoFour(dense));
                add(report, device, spmm, s, twoFour, "2:4", bb, y, denseTime, ops, warmup, reps, cap);
            }
        }
    }

    private static void add(Report report, OpenClDevice device, Spmm spmm, Shape s, SparseMatrix matrix, String format,
                            Buffer b, Buffer y, Timing.Sample dense, double denseOps, int warmup, int reps, double cap) {
        Timing.Sample t;
        try (Spmm.DeviceMatrix ds = spmm.upload(matrix)) {
            t = Timing.medians(warmup, reps, cap, () -> {
                long t0 = System.nanoTime();
                try (Event e = spmm.enqueue(ds, b, s.tokens(), y)) {
                    long kernel = e.times().deviceNanos();
                    return new Timing.Sample(System.nanoTime() - t0, kernel);
                }
            });
        }
        // Rate: the dense-equivalent GOPS (2·out·in·tokens / s), so the bars compare like with like.
        report.add(new BenchRow("sparse", s.name(), "offload-spmm " + format, device.spec(), t.wallNanos() / 1e6,
                denseOps / t.wallNanos(), "GOPS(dense-eq)", dense.wallNanos() / t.wallNanos(), String.format(Locale.ROOT,
                "ratio = dense time / sparse time; kernel %.3f ms (dense kernel / sparse kernel %.2fx); %.1f%% zeros",
                t.deviceNanos() / 1e6, dense.deviceNanos() / t.deviceNanos(), 100 * matrix.sparsity())));
    }

    /** Uniform int8 without zeros, so pruning alone decides the sparsity. */
    static byte[] nonZeroInt8(SplittableRandom rnd, long n) {
        byte[] v = new byte[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) {
            int x = rnd.nextInt(-128, 127);
            v[i] = (byte) (x >= 0 ? x + 1 : x);
        }
        return v;
    }

    static byte[] transpose(byte[] m, int rows, int cols) {
        byte[] t = new byte[m.length];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) t[c * rows + r] = m[r * cols + c];
        return t;
    }
}
