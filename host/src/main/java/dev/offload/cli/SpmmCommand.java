package dev.offload.cli;

import dev.offload.device.DeviceRegistry;
import dev.offload.io.OutputCheck;
import dev.offload.limits.Sizes;
import dev.offload.ops.sparse.BsrMatrix;
import dev.offload.ops.sparse.CsrMatrix;
import dev.offload.ops.sparse.DenseMatrix;
import dev.offload.ops.sparse.Pruning;
import dev.offload.ops.sparse.SciPyNpz;
import dev.offload.ops.sparse.Sparse24Matrix;
import dev.offload.ops.sparse.SparseMatrix;
import dev.offload.ops.sparse.Spmm;
import dev.offload.ops.sparse.SpmmReference;
import dev.offload.ops.sparse.Values;
import dev.offload.tensor.DType;
import dev.offload.tensor.Npy;
import dev.offload.tensor.NpyArray;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code offload spmm}: C = A x B with A sparse (a SciPy .npz, or a dense .npy converted here) and B dense.
 * Everything is read and checked before anything runs; nothing is written on an error.
 */
@Command(name = "spmm", mixinStandardHelpOptions = true,
        description = {"Sparse x dense matrix multiply C = A x B on a device.",
                "A: scipy.sparse.save_npz file (csr or bsr) or a dense .npy [M, K]; B: dense .npy [K, N].",
                "int8 A and B give int32 C; float32 A and B give float32 C."})
public final class SpmmCommand implements Callable<Integer> {
    @Mixin CommonOptions common;

    @Option(names = "--a", required = true, paramLabel = "A.npz|A.npy", description = "The sparse matrix A [M, K].")
    Path a;

    @Option(names = "--b", required = true, paramLabel = "B.npy", description = "The dense matrix B [K, N].")
    Path b;

    @Option(names = "--format", paramLabel = "csr|bsr:RxC|2:4",
            description = "Storage format to run in (default: the .npz's own format; csr for a dense .npy; 2:4 with --prune 2:4).")
    String format;

    @Option(names = "--prune", paramLabel = "SPARSITY|2:4",
            description = "Magnitude-prune A first: a fraction in [0, 1] of each row to zero (0.9 keeps the largest 10%%), or 2:4.")
    String prune;

    @Option(names = "--out", required = true, paramLabel = "C.npy", description = "Where to write C [M, N].")
    Path out;

    @Mixin DeviceOption device;

    @Spec CommandSpec spec;

    private static final Pattern BSR = Pattern.compile("bsr:(\\d+)x(\\d+)");

    @Override
    public Integer call() {
        PrintWriter o = spec.commandLine().getOut();
        new OutputCheck().input("--a", a).input("--b", b).output("--out", out).check();
        SparseMatrix s = loadA();
        NpyArray bArray = Npy.read(b);
        if (bArray.rank() != 2) throw new UserError(b + ": B must be 2-D [K, N], got shape " + bArray.shapeString());
        if (bArray.dtype() != s.dtype()) {
            throw new UserError(b + ": B is " + bArray.dtype().numpyName() + " but A (" + a + ") is " + s.dtype().numpyName()
                    + "; both must be int8 or both float32");
        }
        if (bArray.dim(0) != s.cols()) {
            throw new UserError(b + ": B has " + bArray.dim(0) + " rows but A (" + a + ") has " + s.cols()
                    + " columns; shapes [M, K] x [K, N] must agree");
        }
        int n = bArray.dim(1);
        // C is held on the host as one array and written as .npy bytes: refuse what cannot be, before any work.
        String cName = "--out " + out + ": C (" + s.rows() + " x " + n + ")";
        Sizes.fitsHeap(cName, 2 * Sizes.byteArrayLength(cName, Sizes.bytes(cName, Sizes.elements(cName, s.rows(), n), 4)));

        DeviceRegistry registry = common.registry();
        String chosen = device.chosen(registry);
        var run = OpOnDevice.run(registry, chosen, description -> {}, d -> {
            Spmm spmm = new Spmm(d);
            if (s.dtype() == DType.INT8) {
                var r = spmm.multiplyInt8(s, bArray.toByteArray(), n);
                return new OpOnDevice.Timed<>(NpyArray.ofInts(r.value(), s.rows(), n), r.kernelNanos());
            }
            var r = spmm.multiplyFloat32(s, bArray.toFloatArray(), n);
            return new OpOnDevice.Timed<>(NpyArray.ofFloats(r.value(), s.rows(), n), r.kernelNanos());
        }, () -> OpOnDevice.fastest(1, () -> s.dtype() == DType.INT8
                ? NpyArray.ofInts(SpmmReference.multiplyInt8(s, bArray.toByteArray(), n), s.rows(), n)
                : NpyArray.ofFloats(SpmmReference.multiplyFloat32(s, bArray.toFloatArray(), n), s.rows(), n)));
        NpyArray result = run.value();
        long nanos = run.nanos();
        String where = run.device();
        Npy.write(out, result);
        o.printf("device   %s%n", where);
        o.printf("A        %s [%d, %d] %s, format %s%n", a, s.rows(), s.cols(), s.dtype().numpyName(), s.formatName());
        o.printf("nnz      %d non-zeros (%d stored), sparsity %.4f%n", s.nonZeros(), s.storedValues(), s.sparsity());
        o.printf("B        %s [%d, %d]%n", b, s.cols(), n);
        o.printf("kernel   %.3f ms%n", nanos / 1e6);
        o.printf("C        %s [%d, %d] %s%n", out, s.rows(), n, result.dtype().numpyName());
        o.flush();
        return 0;
    }

    /** Reads A and brings it to the requested format, pruning first when asked. */
    private SparseMatrix loadA() {
        String name = a.getFileName() == null ? a.toString() : a.getFileName().toString().toLowerCase(Locale.ROOT);
        SparseMatrix fromNpz = null;
        DenseMatrix dense;
        if (name.endsWith(".npz")) {
            fromNpz = SciPyNpz.read(a);
            if (format == null && prune == null) return fromNpz;
            dense = fromNpz.toDense();
        } else {
            NpyArray arr = Npy.read(a);
            if (arr.rank() != 2) throw new UserError(a + ": A must be 2-D [M, K], got shape " + arr.shapeString());
            dense = switch (arr.dtype()) {
                case INT8 -> new DenseMatrix(arr.dim(0), arr.dim(1), new Values.Int8(arr.toByteArray()));
                case FLOAT32 -> new DenseMatrix(arr.dim(0), arr.dim(1), new Values.Float32(arr.toFloatArray()));
                default -> throw new UserError(a + ": A must be int8 or float32, got " + arr.dtype().numpyName());
            };
        }
        if (prune != null) {
            if (prune.equals("2:4")) {
                dense = Pruning.twoFour(dense);
            } else {
                double sparsity;
                try {
                    sparsity = Double.parseDouble(prune);
                } catch (NumberFormatException e) {
                    throw new UserError("--prune takes a sparsity in [0, 1] or 2:4, got '" + prune + "'");
                }
                if (!(sparsity >= 0 && sparsity <= 1)) throw new UserError("--prune sparsity must be in [0, 1], got " + prune);
                dense = Pruning.magnitude(dense, sparsity);
            }
        }
        String target = format != null ? format
                : "2:4".equals(prune) ? "2:4"
                : fromNpz instanceof BsrMatrix bsr ? bsr.formatName() : "csr";
        if (target.equals("csr")) return CsrMatrix.fromDense(dense);
        if (target.equals("2:4")) {
            try {
                return Sparse24Matrix.fromDense(dense);
            } catch (IllegalArgumentException e) {
                throw new UserError(a + ": " + e.getMessage());
            }
        }
        Matcher m = BSR.matcher(target);
        if (m.matches()) {
            int r = Integer.parseInt(m.group(1)), c = Integer.parseInt(m.group(2));
            if (r < 1 || c < 1) throw new UserError("--format " + target + ": block sides must be at least 1");
            return BsrMatrix.fromDense(dense, r, c);
        }
        throw new UserError("--format must be csr, bsr:RxC (e.g. bsr:4x4) or 2:4, got '" + target + "'");
    }
}
