package dev.offload.cli;

import dev.offload.cl.Buffer;
import dev.offload.device.DeviceRegistry;
import dev.offload.io.OutputCheck;
import dev.offload.limits.Sizes;
import dev.offload.ops.gemm.BoundGemm;
import dev.offload.ops.gemm.Epilogue;
import dev.offload.ops.gemm.GemmConfig;
import dev.offload.ops.gemm.Int8Gemm;
import dev.offload.ops.gemm.Int8GemmReference;
import dev.offload.ops.gemm.Int8Matrix;
import dev.offload.ops.gemm.PackedWeights;
import dev.offload.ops.gemm.ZeroPoint;
import dev.offload.ops.quant.QuantType;
import dev.offload.tensor.Npy;
import dev.offload.tensor.NpyArray;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** ONNX MatMulInteger on .npy files: C = (A - za)(B - zb) in int32. */
@Command(name = "gemm-int8", mixinStandardHelpOptions = true,
        description = {"Integer matrix product with ONNX MatMulInteger semantics: C[m,n] = sum_k (A[m,k]-za)*(B[k,n]-zb), "
                + "int32 with 32-bit wrap-around. A is int8/uint8 [M,K], B int8/uint8 [K,N].",
                "Prints the device, the kernel configuration, the kernel time and GOPS. Bad input: one line on stderr, "
                + "exit code 2, nothing written."})
public final class GemmInt8Command implements Callable<Integer> {
    @Mixin CommonOptions common;

    @Option(names = "--a", required = true, paramLabel = "A.npy", description = "A: int8 or uint8, shape (M, K).")
    Path a;

    @Option(names = "--b", required = true, paramLabel = "B.npy", description = "B: int8 or uint8, shape (K, N).")
    Path b;

    @Option(names = "--a-zero-point", paramLabel = "Z|za.npy",
            description = "A's zero point: an integer, or a .npy of A's dtype with shape () or (1,) or (M,) (per row). Default 0.")
    String aZeroPoint;

    @Option(names = "--b-zero-point", paramLabel = "Z|zb.npy",
            description = "B's zero point: an integer, or a .npy of B's dtype with shape () or (1,) or (N,) (per column). Default 0.")
    String bZeroPoint;

    @Option(names = "--out", required = true, paramLabel = "C.npy", description = "Output: int32, shape (M, N).")
    Path out;

    @Mixin DeviceOption device;

    @Option(names = "--repeat", paramLabel = "N", defaultValue = "1",
            description = "Run the product N times and report the fastest (the first run includes one-time kernel setup). Default: ${DEFAULT-VALUE}.")
    int repeat;

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter w = spec.commandLine().getOut();
        new OutputCheck().input("--a", a).input("--b", b).input("--a-zero-point", zeroPointFile(aZeroPoint))
                .input("--b-zero-point", zeroPointFile(bZeroPoint)).output("--out", out).check();
        Int8Matrix am = matrix(a, "A");
        Int8Matrix bm = matrix(b, "B");
        if (am.cols() != bm.rows()) {
            throw new UserError(b + ": B has " + bm.rows() + " rows but A (" + a + ") has " + am.cols()
                    + " columns; K must agree (A is (M, K), B is (K, N))");
        }
        ZeroPoint za = zeroPoint(aZeroPoint, "--a-zero-point", am.type(), am.rows(), true);
        ZeroPoint zb = zeroPoint(bZeroPoint, "--b-zero-point", bm.type(), bm.cols(), false);

        if (repeat < 1) throw new UserError("--repeat must be at least 1, got " + repeat);
        int m = am.rows(), n = bm.cols(), k = am.cols();
        // C is held on the host as one int array: refuse what cannot be, before any device work.
        String cName = "--out " + out + ": C (" + m + " x " + n + " int32)";
        long cBytes = Sizes.byteArrayLength(cName, Sizes.bytes(cName, Sizes.elements(cName, m, n), 4));
        Sizes.fitsHeap(cName, 2 * cBytes);   // the int array and the .npy bytes made from it
        DeviceRegistry registry = common.registry();
        String chosen = device.chosen(registry);
        var run = OpOnDevice.run(registry, chosen, description -> w.println("device: " + description), cl -> {
            Sizes.fitsDevice(cName, cBytes, cl.info());
            GemmConfig.Choice choice = GemmConfig.resolve(cl.info());
            Int8Gemm gemm = new Int8Gemm(cl, choice.config());
            w.println("config: " + choice.describe());
            try (PackedWeights pw = gemm.pack(bm, zb); Buffer ab = cl.upload(am.data());
                 Buffer cb = cl.context().createBuffer(cBytes); BoundGemm call = gemm.bind(ab, am.type(), m, za, pw, Epilogue.INT32, cb)) {
                long best = Long.MAX_VALUE;
                for (int r = 0; r < repeat; r++) best = Math.min(best, call.run());
                return new OpOnDevice.Timed<>(cl.readInts(cb, m * n), best);
            }
        }, () -> {
            w.println("config: pure-Java reference (triple loop)");
            return OpOnDevice.fastest(repeat, () -> Int8GemmReference.matmulInteger(am, za, bm, zb));
        });
        int[] c = run.value();
        long nanos = run.nanos();
        Npy.write(out, NpyArray.ofInts(c, m, n));
        w.printf("C = (%d x %d) x (%d x %d) -> %s int32 (%d, %d)%n", m, k, k, n, out, m, n);
        w.printf("kernel time %.3f ms%s, %.1f GOPS%n", nanos / 1e6, repeat > 1 ? " (fastest of " + repeat + ")" : "", 2.0 * m * n * k / Math.max(nanos, 1));
        w.flush();
        return 0;
    }

    /** The zero point's file, when it is one (not an integer). */
    private static Path zeroPointFile(String value) {
        return value == null || value.strip().matches("[+-]?\\d+") ? null : Path.of(value);
    }

    /** Reads an int8/uint8 2-D matrix, or fails naming the file and the problem. */
    private static Int8Matrix matrix(Path file, String name) {
        NpyArray arr = Npy.read(file);
        QuantType type = QuantType.of(arr.dtype());
        if (type == null) {
            throw new UserError(file + ": " + name + " has dtype " + arr.dtype().numpyName() + "; it must be int8 or uint8");
        }
        if (arr.rank() != 2) {
            throw new UserError(file + ": " + name + " has shape " + arr.shapeString() + "; it must be 2-D");
        }
        if (arr.shape()[0] < 1 || arr.shape()[1] < 1) {
            throw new UserError(file + ": " + name + " has shape " + arr.shapeString() + "; both dimensions must be at least 1");
        }
        return new Int8Matrix(type, arr.dim(0), arr.dim(1), arr.data());
    }

    /** An integer, or a .npy file of the operand's dtype holding one value or one per row (A) / column (B). */
    private static ZeroPoint zeroPoint(String value, String option, QuantType type, int length, boolean forA) {
        if (value == null) return ZeroPoint.scalar(0);
        String unit = forA ? "row of A" : "column of B";
        if (value.strip().matches("[+-]?\\d+")) {
            long z;
            try {
                z = Long.parseLong(value.strip());
            } catch (NumberFormatException e) {
                z = Long.MAX_VALUE;
            }
            if (z < type.min() || z > type.max()) {
                throw new UserError(option + " " + value + " is outside the " + type.name().toLowerCase(java.util.Locale.ROOT) + " range ["
                        + type.min() + ", " + type.max() + "]");
            }
            return ZeroPoint.scalar((int) z);
        }
        Path file = Path.of(value);
        NpyArray arr = Npy.read(file);
        if (QuantType.of(arr.dtype()) != type) {
            throw new UserError(file + ": zero point has dtype " + arr.dtype().numpyName() + "; it must match its operand's dtype "
                    + type.name().toLowerCase(java.util.Locale.ROOT));
        }
        if (arr.rank() > 1) {
            throw new UserError(file + ": zero point has shape " + arr.shapeString() + "; it must be a scalar or 1-D");
        }
        int[] values = new int[(int) arr.size()];
        for (int i = 0; i < values.length; i++) values[i] = type.value(arr.data()[i]);
        if (values.length == 1) return ZeroPoint.scalar(values[0]);
        if (values.length != length) {
            throw new UserError(file + ": zero point has " + values.length + " values; it must have 1 or " + length
                    + ", one per " + unit);
        }
        return forA ? ZeroPoint.perRow(values) : ZeroPoint.perColumn(values);
    }
}
