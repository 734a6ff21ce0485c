package dev.offload.bench;

import dev.offload.cl.Buffer;
import dev.offload.device.OpenClDevice;
import dev.offload.ops.gemm.BoundGemm;
import dev.offload.ops.gemm.Epilogue;
import dev.offload.ops.gemm.Int8Gemm;
import dev.offload.ops.gemm.Int8GemmReference;
import dev.offload.ops.gemm.Int8Matrix;
import dev.offload.ops.gemm.PackedWeights;
import dev.offload.ops.gemm.ZeroPoint;
import dev.offload.ops.quant.QuantType;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * INT8 GEMM (uint8 A x int8 B -> int32, scalar zero points) on the OpenCL device against ONNX Runtime's
 * MatMulInteger and the pure-Java reference, same shapes and data. B is packed once (offload) or a constant
 * initializer (ONNX Runtime); A is already on the device. Offload's call is bound once ({@link Int8Gemm#bind}: zero
 * points uploaded, kernel arguments set, as a graph does per shape) and its time is the wall time of the launches + one
 * wait; the kernel time from the profiling events is a row of its own. GOPS = 2·M·N·K / s.
 */
final class GemmBench {
    private GemmBench() {}

    /** A's zero point (activations are asymmetric uint8) and B's (weights symmetric int8), as quantized encoders have. */
    static final int A_ZERO_POINT = 121, B_ZERO_POINT = 0;

    record Shape(String label, int m, int k, int n) {
        double ops() { return 2.0 * m * n * k; }

        String name() { return label + " " + m + "x" + k + "x" + n; }
    }

    static List<Shape> shapes(boolean quick) {
        if (quick) {
            return List.of(new Shape("square", 256, 256, 256), new Shape("square", 512, 512, 512),
                    new Shape("decode", 1, 1024, 1024), new Shape("minilm-ffn1", 512, 384, 1536));
        }
        return List.of(new Shape("square", 512, 512, 512), new Shape("square", 1024, 1024, 1024),
                new Shape("square", 2048, 2048, 2048),
                new Shape("decode", 1, 4096, 4096), new Shape("decode", 8, 4096, 4096), new Shape("decode", 32, 4096, 4096),
                new Shape("minilm-qkvo", 4096, 384, 384), new Shape("minilm-ffn1", 4096, 384, 1536),
                new Shape("minilm-ffn2", 4096, 1536, 384));
    }

    static void run(Report report, OpenClDevice device, boolean quick, int threads) {
        // 40 warm-up calls for both peers: on the 2-core VM the first ~100 calls of a shape ran in a slow phase (one PoCL
        // worker doing both halves; docs/cpu-speed.md), and 2 warm-ups left 9 medians inside it (1024^3 kernel 1.10 ms,
        // 0.68 ms after 40).
        int warmup = quick ? 1 : 40, reps = quick ? 3 : 15;
        double cap = quick ? 1 : 5;
        // The Java reference runs on one thread at 5-9 GOPS: only where one call takes well under a second.
        double referenceOps = quick ? 0.05e9 : 2.2e9;
        Int8Gemm gemm = Int8Gemm.on(device);
        boolean ortAvailable = true;
        for (Shape s : shapes(quick)) {
            SplittableRandom rnd = new SplittableRandom(7 + s.m() * 31L + s.k());
            byte[] a = randomBytes(rnd, (long) s.m() * s.k());
            byte[] b = randomBytes(rnd, (long) s.k() * s.n());
            Int8Matrix am = new Int8Matrix(QuantType.UINT8, s.m(), s.k(), a);
            Int8Matrix bm = new Int8Matrix(QuantType.INT8, s.k(), s.n(), b);
            ZeroPoint za = ZeroPoint.scalar(A_ZERO_POINT), zb = ZeroPoint.scalar(B_ZERO_POINT);

            Timing.Sample offload;
            int[] offloadC;
            try (PackedWeights w = gemm.pack(bm, zb); Buffer ab = device.upload(a);
                 Buffer out = device.context().createBuffer(4L * s.m() * s.n());
                 BoundGemm call = gemm.bind(ab, QuantType.UINT8, s.m(), za, w, Epilogue.INT32, out)) {
                offload = Timing.medians(warmup, reps, cap, () -> {
                    long t0 = System.nanoTime();
                    long kernel = call.run();
                    return new Timing.Sample(System.nanoTime() - t0, kernel);
                });
                offloadC = device.readInts(out, s.m() * s.n());
            }

            double ortNs = Double.NaN;
            String agreement = "";
            if (ortAvailable) {
                Optional<OrtMatMulInteger> ort = Peer.open("ONNX Runtime (MatMulInteger)",
                        () -> new OrtMatMulInteger(s.m(), s.k(), s.n(), a, A_ZERO_POINT, b, B_ZERO_POINT, threads));
                ortAvailable = ort.isPresent();
                if (ort.isPresent()) {
                    try (OrtMatMulInteger o = ort.get()) {
                        ortNs = Timing.medianNanos(warmup, reps, cap, Timing.wall(o::run));
                        agreement = Arrays.equals(o.result(), offloadC) ? "" : "; RESULTS DIFFER from ONNX Runtime";
                    }
                }
            }

            double refNs = Double.NaN;
            if (s.ops() <= referenceOps) {
                refNs = Timing.medianNanos(1, quick ? 1 : 3, cap,
                        Timing.wall(() -> Int8GemmReference.matmulInteger(am, za, bm, zb)));
            }

            String name = s.name();
            double ops = s.ops();
            report.add(new BenchRow("gemm", name, "offload", device.spec(), offload.wallNanos() / 1e6, ops / offload.wallNanos(),
                    "GOPS", ortNs / offload.wallNanos(), "wall: a bound call's launches + one wait; ratio = ONNX Runtime time / offload time" + agreement));
            report.add(new BenchRow("gemm", name, "offload-kernel", device.spec(), offload.deviceNanos() / 1e6,
                    ops / offload.deviceNanos(), "GOPS", ortNs / offload.deviceNanos(), "kernel time from the profiling event"));
            if (!Double.isNaN(ortNs)) {
                report.add(new BenchRow("gemm", name, "onnxruntime", "cpu", ortNs / 1e6, ops / ortNs, "GOPS", Double.NaN,
                        "MatMulInteger, B constant initializer, " + threads + " intra-op threads"));
            }
            if (!Double.isNaN(refNs)) {
                report.add(new BenchRow("gemm", name, "java-reference", "java", refNs / 1e6, ops / refNs, "GOPS",
                        refNs / offload.wallNanos(), "Int8GemmReference, 1 thread; ratio = reference time / offload time"));
            }
        }
    }

    static byte[] randomBytes(SplittableRandom rnd, long n) {
        byte[] v = new byte[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) v[i] = (byte) rnd.nextInt(256);
        return v;
    }
}
