package dev.offload.bench;

import dev.offload.cl.Buffer;
import dev.offload.device.OpenClDevice;
import dev.offload.ops.blockq.BlockFormat;
import dev.offload.ops.blockq.BlockMatmul;
import dev.offload.ops.blockq.BlockMatrix;
import dev.offload.ops.blockq.RandomBlocks;
import dev.offload.ops.gemm.Epilogue;
import dev.offload.ops.gemm.Int8Gemm;
import dev.offload.ops.gemm.Int8Matrix;
import dev.offload.ops.gemm.PackedWeights;
import dev.offload.ops.gemm.ZeroPoint;
import dev.offload.ops.quant.QuantType;
import java.lang.foreign.Arena;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The block-quantized linear (Q8_0 and Q4_0 weights, per-block int8 x) against offload's INT8 GEMM (int8 weights,
 * one scale per column) at the same shapes in the same run. Decode (M = 1, Llama-3.2-1B's projections and its
 * 128256-token output layer) is a race to stream the weights: rate = GB/s of weight bytes per kernel second
 * (llama.cpp streams ~30 GB/s on 2 cores of this kind, DRAM gives 31-39). Prefill (M = 64): GOPS = 2 M N K per
 * kernel second. Times are kernel times from the profiling events, medians; x is on the device already. Where
 * the prefill runs on AMX tiles (Q8_0 and Q4_0, M >= 16, docs/amx.md), it is also timed on VNNI in the same run
 * (rows offload-q8_0-vnni, offload-q4_0-vnni; ratio = VNNI time / AMX time).
 */
final class BlockqBench {
    private BlockqBench() {}

    record Shape(String label, int m, int k, int n) {
        double ops() { return 2.0 * m * n * k; }

        boolean decode() { return m <= 4; }

        String name() { return label + " " + m + "x" + k + "x" + n; }
    }

    static List<Shape> shapes(boolean quick) {
        if (quick) return List.of(new Shape("decode", 1, 2048, 2048), new Shape("prefill", 64, 512, 512));
        return List.of(new Shape("decode ffn-up", 1, 2048, 8192), new Shape("decode ffn-down", 1, 8192, 2048),
                new Shape("decode output", 1, 2048, 128256), new Shape("prefill", 64, 2048, 2048),
                new Shape("prefill ffn-up", 128, 2048, 8192), new Shape("prefill ffn-down", 128, 8192, 2048));
    }

    static void run(Report report, OpenClDevice device, boolean quick) {
        int warmup = quick ? 1 : 3, reps = quick ? 5 : 21;
        double cap = quick ? 1 : 4;
        BlockMatmul matmul = new BlockMatmul(device), vnni = new BlockMatmul(device, false);
        Int8Gemm gemm = Int8Gemm.on(device);
        for (Shape s : shapes(quick)) {
            SplittableRandom rnd = new SplittableRandom(17 + s.k() + s.n());
            byte[] x = RandomBlocks.activations(s.m(), s.k(), rnd);
            float[] dx = RandomBlocks.scales(s.m() * s.k() / BlockFormat.BLOCK, rnd);
            double int8Ns = int8(gemm, device, s, x, rnd, warmup, reps, cap);
            double int8Bytes = (double) s.k() * s.n();
            report.add(row(s, "int8-gemm", device, int8Ns, int8Bytes, Double.NaN, "Int8Gemm, int8 weights [K][N] (" + gemm.config().brief() + ")"));
            for (BlockFormat f : BlockFormat.values()) {
                try (Arena arena = Arena.ofShared()) {
                    BlockMatrix w = RandomBlocks.weight(f, s.n(), s.k(), rnd, arena);
                    boolean amx = matmul.tile(s.m(), f).amxRows() > 0;
                    double ns, vnniNs = Double.NaN;
                    try (BlockMatmul.DeviceWeight dw = matmul.upload(w); Buffer xb = device.upload(x); Buffer db = device.upload(dx);
                         Buffer y = device.context().createBuffer(4L * s.m() * s.n())) {
                        ns = Timing.medianNanos(warmup, reps, cap, () -> matmul.run(xb, db, s.m(), dw, null, y));
                        if (amx) vnniNs = Timing.medianNanos(warmup, reps, cap, () -> vnni.run(xb, db, s.m(), dw, null, y));
                    }
                    String name = "offload-" + f.name().toLowerCase(java.util.Locale.ROOT);
                    report.add(row(s, name, device, ns, w.byteSize(), int8Ns / ns,
                            "blockq " + matmul.tile(s.m(), f) + ", " + w.byteSize() / 1e6 + " MB of blocks; ratio = int8 GEMM time / this"));
                    if (amx) {
                        report.add(row(s, name + "-vnni", device, vnniNs, w.byteSize(), vnniNs / ns,
                                "blockq on VNNI " + vnni.tile(s.m(), f) + "; ratio = this time / the AMX prefill's"));
                    }
                }
            }
        }
    }

    private static double int8(Int8Gemm gemm, OpenClDevice device, Shape s, byte[] x, SplittableRandom rnd, int warmup, int reps, double cap) {
        byte[] b = new byte[Math.multiplyExact(s.k(), s.n())];
        rnd.nextBytes(b);
        try (PackedWeights w = gemm.pack(new Int8Matrix(QuantType.INT8, s.k(), s.n(), b), ZeroPoint.scalar(0));
             Buffer ab = device.upload(x); Buffer out = device.context().createBuffer(4L * s.m() * s.n())) {
            return Timing.medianNanos(warmup, reps, cap, () -> gemm.run(ab, QuantType.INT8, s.m(), ZeroPoint.scalar(0), w, Epilogue.INT32, out));
        }
    }

    private static BenchRow row(Shape s, String impl, OpenClDevice device, double ns, double weightBytes, double ratio, String note) {
        return s.decode()
                ? new BenchRow("blockq", s.name(), impl, device.spec(), ns / 1e6, weightBytes / ns, "GB/s", ratio, note)
                : new BenchRow("blockq", s.name(), impl, device.spec(), ns / 1e6, s.ops() / ns, "GOPS", ratio, note);
    }
}
