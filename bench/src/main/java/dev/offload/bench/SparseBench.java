package dev.offload.bench;

import dev.offload.cl.Buffer;
import dev.offload.cl.Event;
import dev.offload.device.KernelLauncher;
import dev.offload.device.OpenClDevice;
import dev.offload.graph.SparseFormat;
import dev.offload.ops.gemm.Activation;
import dev.offload.ops.gemm.Int8Gemm;
import dev.offload.ops.gemm.Int8Matrix;
import dev.offload.ops.gemm.PackedWeights;
import dev.offload.ops.gemm.ZeroPoint;
import dev.offload.ops.quant.QuantType;
import dev.offload.ops.sparse.DenseMatrix;
import dev.offload.ops.sparse.Pruning;
import dev.offload.ops.sparse.Spmm;
import dev.offload.ops.sparse.Values;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Pruned linear layers against the dense one on the same device, as the graph runs them: y = (a - za) W * (sa * sw)
 * + bias, token-major, a uint8 [tokens, in], W int8 [in, out]. Dense: {@link Int8Gemm#enqueueDequantize} (the VNNI
 * GEMM where the CPU has it). Sparse ({@link Spmm#enqueueLinear}): block sparsity (BSR 16x4 and 32x4 blocks,
 * {@link Pruning#blocks}) at 50/70/80/90%, unstructured CSR (per-row magnitude) and 2:4. Ratio = dense time / sparse
 * time (>1: the sparse kernel is faster); GOPS are dense-equivalent (2 * tokens * in * out / s) so that rows compare
 * like with like. Wall times of enqueue + finish, weights and activations already on the device.
 */
final class SparseBench {
    private SparseBench() {}

    /** A linear layer: {@code in -> out} features over {@code tokens} rows. */
    record Shape(String label, int in, int out, int tokens) {
        String name() { return label + " " + in + "->" + out + " x " + tokens + " tokens"; }
    }

    /** The MiniLM encoder's linears: attention projections 384->384, FFN up 384->1536 and down 1536->384. */
    static List<Shape> shapes(boolean quick) {
        int tokens = quick ? 512 : 4096;
        List<Shape> all = List.of(new Shape("minilm-attn", 384, 384, tokens), new Shape("minilm-ffn-up", 384, 1536, tokens),
                new Shape("minilm-ffn-down", 1536, 384, tokens));
        return quick ? all.subList(1, 2) : all;
    }

    static double[] sparsities(boolean quick) { return quick ? new double[] {0.5, 0.9} : new double[] {0.5, 0.7, 0.8, 0.9}; }

    static List<String> blockFormats(boolean quick) { return quick ? List.of("bsr:16x4") : List.of("bsr:16x4", "bsr:32x4"); }

    static void run(Report report, OpenClDevice device, boolean quick) {
        int warmup = quick ? 1 : 3, reps = quick ? 3 : 15;
        double cap = quick ? 1 : 5;
        Spmm spmm = new Spmm(device);
        Int8Gemm gemm = Int8Gemm.on(device);
        for (Shape s : shapes(quick)) {
            SplittableRandom rnd = new SplittableRandom(s.out() * 17L + s.tokens());
            byte[] w = nonZeroInt8(rnd, (long) s.in() * s.out());
            byte[] a = new byte[s.tokens() * s.in()];
            for (int i = 0; i < a.length; i++) a[i] = (byte) rnd.nextInt(256);
            float[] sw = new float[s.out()], bias = new float[s.out()];
            for (int j = 0; j < s.out(); j++) { sw[j] = 0.01f + (float) rnd.nextDouble() * 0.01f; bias[j] = (float) rnd.nextDouble() - 0.5f; }
            double ops = 2.0 * s.in() * s.out() * s.tokens();
            try (Buffer ab = device.upload(a); Buffer sa = device.upload(new float[] {0.02f}); Buffer za = device.upload(new int[] {128});
                 Buffer swb = device.upload(sw); Buffer bb = device.upload(bias);
                 Buffer y = device.context().createBuffer(4L * s.tokens() * s.out())) {
                Timing.Sample dense;
                try (PackedWeights packed = gemm.pack(new Int8Matrix(QuantType.INT8, s.in(), s.out(), w), ZeroPoint.scalar(0))) {
                    var act = new Int8Gemm.DeviceActivation(ab, QuantType.UINT8, s.tokens(), sa, za, false);
                    dense = time(device, warmup, reps, cap, l -> gemm.enqueueDequantize(act, packed, swb, bb, Activation.NONE, y, null, l));
                }
                report.add(new BenchRow("sparse", s.name(), "offload-dense-int8-linear", device.spec(), dense.wallNanos() / 1e6,
                        ops / dense.wallNanos(), "GOPS", 1.0, String.format(Locale.ROOT,
                        "Int8Gemm dequantize epilogue (%s); kernel %.3f ms", gemm.config().brief(), dense.deviceNanos() / 1e6)));

                Spmm.Activations act = new Spmm.Activations(ab, true, s.tokens(), sa, za, false);
                DenseMatrix wt = DenseMatrix.ofInt8(s.out(), s.in(), transpose(w, s.in(), s.out()));
                for (String f : blockFormats(quick)) {
                    SparseFormat format = SparseFormat.parse(f);
                    for (double sparsity : sparsities(quick)) {
                        DenseMatrix pruned = Pruning.blocks(wt, format.blockRows(), format.blockCols(), sparsity, Pruning.BlockNorm.L2);
                        add(report, device, spmm, s, pruned, format, String.format(Locale.ROOT, "%s %.0f%%", f, 100 * sparsity),
                                act, swb, bb, y, dense, ops, warmup, reps, cap);
                    }
                }
                for (double sparsity : new double[] {0.5, 0.9}) {
                    add(report, device, spmm, s, Pruning.magnitude(wt, sparsity), SparseFormat.CSR,
                            String.format(Locale.ROOT, "csr %.0f%%", 100 * sparsity), act, swb, bb, y, dense, ops, warmup, reps, cap);
                }
                add(report, device, spmm, s, Pruning.twoFour(wt), SparseFormat.TWO_FOUR, "2:4", act, swb, bb, y, dense, ops, warmup, reps, cap);
            }
        }
    }

    private static void add(Report report, OpenClDevice device, Spmm spmm, Shape s, DenseMatrix prunedT, SparseFormat format,
                            String label, Spmm.Activations act, Buffer sw, Buffer bias, Buffer y, Timing.Sample dense,
                            double denseOps, int warmup, int reps, double cap) {
        byte[] w = transpose(((Values.Int8) prunedT.values()).data(), s.out(), s.in());
        long nonZeros = prunedT.nonZeros();
        Timing.Sample t;
        try (Spmm.DeviceMatrix dw = spmm.uploadLinearWeight(w, s.in(), s.out(), format)) {
            t = time(device, warmup, reps, cap, l -> spmm.enqueueLinear(dw, act, sw, bias, Activation.NONE, y, l));
        }
        report.add(new BenchRow("sparse", s.name(), "offload-sparse-linear " + label, device.spec(), t.wallNanos() / 1e6,
                denseOps / t.wallNanos(), "GOPS(dense-eq)", dense.wallNanos() / t.wallNanos(), String.format(Locale.ROOT,
                "ratio = dense time / sparse time; kernel %.3f ms (dense kernel / sparse kernel %.2fx); %.1f%% zeros",
                t.deviceNanos() / 1e6, dense.deviceNanos() / t.deviceNanos(), 100.0 - 100.0 * nonZeros / ((double) s.in() * s.out()))));
    }

    /** Median wall (enqueue to finish) and kernel times of one enqueue through a launcher that keeps its events. */
    private static Timing.Sample time(OpenClDevice device, int warmup, int reps, double cap, java.util.function.Consumer<KernelLauncher> enqueue) {
        return Timing.medians(warmup, reps, cap, () -> {
            List<Event> events = new ArrayList<>();
            long t0 = System.nanoTime();
            enqueue.accept((k, global, local) -> events.add(device.launch(k, global, local)));
            for (Event e : events) e.await();   // an in-order queue: the last one ends the call
            long wall = System.nanoTime() - t0;
            long kernel = 0;
            for (Event e : events) {
                try (e) { kernel += e.times().deviceNanos(); }
            }
            return new Timing.Sample(wall, kernel);
        });
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
