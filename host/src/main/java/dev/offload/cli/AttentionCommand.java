package dev.offload.cli;

import dev.offload.device.DeviceRegistry;
import dev.offload.io.OutputCheck;
import dev.offload.ops.attention.AttentionProblem;
import dev.offload.ops.attention.AttentionReference;
import dev.offload.ops.attention.AttentionShape;
import dev.offload.ops.attention.FusedAttention;
import dev.offload.ops.attention.Mask;
import dev.offload.ops.attention.Storage;
import dev.offload.tensor.DType;
import dev.offload.tensor.Npy;
import dev.offload.tensor.NpyArray;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code offload attention}: O = softmax(scale * Q K^T + mask) V from .npy files, with the fused kernel
 * (or the Java reference for {@code --device java}). Every input is checked before anything runs; a
 * problem is one line naming the file, exit code 2, and no output file.
 */
@Command(name = "attention", mixinStandardHelpOptions = true,
        description = {"Fused softmax attention O = softmax(scale * Q K^T + mask) V on .npy inputs.",
                "Q is [H,Sq,D] or [B,H,Sq,D]; K and V are [Hkv,Skv,D] or [B,Hkv,Skv,D] (H % Hkv == 0), float32 or float16.",
                "O is float32, shaped like Q. A query whose keys are all masked outputs zeros."})
public final class AttentionCommand implements Callable<Integer> {
    @Mixin CommonOptions common;

    @Option(names = "--q", required = true, paramLabel = "Q.npy", description = "Queries [B,]H,Sq,D.")
    Path qFile;

    @Option(names = "--k", required = true, paramLabel = "K.npy", description = "Keys [B,]Hkv,Skv,D.")
    Path kFile;

    @Option(names = "--v", required = true, paramLabel = "V.npy", description = "Values [B,]Hkv,Skv,D.")
    Path vFile;

    @Option(names = "--out", required = true, paramLabel = "O.npy", description = "Output, float32 [B,]H,Sq,D.")
    Path outFile;

    @Option(names = "--causal", description = "Causal mask, bottom-right aligned: query i sees keys j <= i + Skv - Sq.")
    boolean causal;

    @Option(names = "--scale", paramLabel = "S", description = "Score scale (default 1/sqrt(D)).")
    Float scale;

    @Option(names = "--kv-lengths", paramLabel = "L.npy", description = "int32/int64 [B]: keys j >= L[b] are masked.")
    Path lengthsFile;

    @Option(names = "--mask", paramLabel = "M.npy",
            description = "Additive float mask [Sq,Skv], [B,1,Sq,Skv] or [B,H,Sq,Skv]; -inf masks a key.")
    Path maskFile;

    @Mixin DeviceOption device;

    @Spec CommandSpec spec;

    /** A .npy input as attention reads it: float values and whether they were stored as float16. */
    private record Tensor(Path file, long[] shape, float[] values, boolean half) {}

    @Override
    public Integer call() {
        new OutputCheck().input("--q", qFile).input("--k", kFile).input("--v", vFile).input("--kv-lengths", lengthsFile)
                .input("--mask", maskFile).output("--out", outFile).check();
        Tensor q = readFloatTensor(qFile, "Q");
        Tensor k = readFloatTensor(kFile, "K");
        Tensor v = readFloatTensor(vFile, "V");
        AttentionShape shape = shapeOf(q, k, v);
        Mask mask = new Mask(causal, lengthsFile == null ? null : readLengths(shape),
                maskFile == null ? null : readMask(shape));
        Storage storage = q.half() && k.half() && v.half() ? Storage.FLOAT16 : Storage.FLOAT32;
        float s = scale != null ? scale : shape.defaultScale();
        AttentionProblem problem;
        try {
            problem = new AttentionProblem(shape, mask, s, storage);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }

        PrintWriter out = spec.commandLine().getOut();
        DeviceRegistry registry = common.registry();
        String chosen = device.chosen(registry);
        var run = OpOnDevice.run(registry, chosen, description -> out.println("device: " + description), cl -> {
            int n = Math.toIntExact(shape.outputElements());
            try (Arena arena = Arena.ofConfined();
                 var qb = cl.upload(storage.encode(arena, q.values()));
                 var kb = cl.upload(storage.encode(arena, k.values()));
                 var vb = cl.upload(storage.encode(arena, v.values()));
                 var ob = cl.context().createBuffer(4L * n)) {
                long nanos = new FusedAttention(cl).run(problem, qb, kb, vb, ob);
                return new OpOnDevice.Timed<>(cl.readFloats(ob, n), nanos);
            }
        }, () -> OpOnDevice.fastest(1, () -> AttentionReference.compute(problem, q.values(), k.values(), v.values())));
        float[] o = run.value();
        long nanos = run.nanos();
        Npy.write(outFile, NpyArray.ofFloats(o, q.shape()));
        out.printf("attention %s: kernel time %.3f ms (%.2f GFLOPS); wrote %s%n", problem, nanos / 1e6,
                problem.flops() / Math.max(nanos, 1), outFile);
        out.flush();
        return 0;
    }

    private static Tensor readFloatTensor(Path file, String what) {
        NpyArray a = Npy.read(file);
        if (a.dtype() != DType.FLOAT32 && a.dtype() != DType.FLOAT16) {
            throw new UserError(file + ": " + what + " must be float32 or float16, got " + a.dtype().numpyName());
        }
        if (a.rank() != 3 && a.rank() != 4) {
            throw new UserError(file + ": " + what + " must be 3-D [H,S,D] or 4-D [B,H,S,D], got shape " + a.shapeString());
        }
        for (long dim : a.shape()) {
            if (dim == 0) throw new UserError(file + ": " + what + " has an empty dimension in shape " + a.shapeString());
        }
        return new Tensor(file, a.shape(), a.toFloatArray(), a.dtype() == DType.FLOAT16);
    }

    /** [H,S,D] reads as batch 1. */
    private static long[] as4d(long[] s) { return s.length == 4 ? s : new long[] {1, s[0], s[1], s[2]}; }

    private static AttentionShape shapeOf(Tensor q, Tensor k, Tensor v) {
        if (k.shape().length != q.shape().length || v.shape().length != q.shape().length) {
            throw new UserError(k.shape().length != q.shape().length
                    ? k.file() + ": K has " + k.shape().length + " dimensions, Q (" + q.file() + ") has " + q.shape().length
                    : v.file() + ": V has " + v.shape().length + " dimensions, Q (" + q.file() + ") has " + q.shape().length);
        }
        long[] qs = as4d(q.shape()), ks = as4d(k.shape()), vs = as4d(v.shape());
        if (!Arrays.equals(ks, vs)) {
            throw new UserError(v.file() + ": V shape " + Arrays.toString(v.shape()) + " differs from K shape "
                    + Arrays.toString(k.shape()) + " (" + k.file() + "); K and V must have the same heads, length and D");
        }
        if (ks[0] != qs[0]) {
            throw new UserError(k.file() + ": K batch " + ks[0] + " differs from Q batch " + qs[0] + " (" + q.file() + ")");
        }
        if (ks[3] != qs[3]) {
            throw new UserError(k.file() + ": K head dimension " + ks[3] + " differs from Q head dimension " + qs[3]
                    + " (" + q.file() + ")");
        }
        if (qs[1] % ks[1] != 0) {
            throw new UserError(k.file() + ": Q has " + qs[1] + " heads, not a multiple of K's " + ks[1]
                    + " heads (grouped-query attention needs H % Hkv == 0)");
        }
        try {
            return new AttentionShape(Math.toIntExact(qs[0]), Math.toIntExact(qs[1]), Math.toIntExact(ks[1]),
                    Math.toIntExact(qs[2]), Math.toIntExact(ks[2]), Math.toIntExact(qs[3]));
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new UserError(q.file() + ": " + e.getMessage());
        }
    }

    private int[] readLengths(AttentionShape shape) {
        NpyArray a = Npy.read(lengthsFile);
        if (a.dtype() != DType.INT32 && a.dtype() != DType.INT64) {
            throw new UserError(lengthsFile + ": kv lengths must be int32 or int64, got " + a.dtype().numpyName());
        }
        if (a.rank() != 1 || a.dim(0) != shape.batch()) {
            throw new UserError(lengthsFile + ": kv lengths must have shape (" + shape.batch() + ",) (one per sequence), got "
                    + a.shapeString());
        }
        long[] raw = a.dtype() == DType.INT64 ? a.toLongArray() : Arrays.stream(a.toIntArray()).asLongStream().toArray();
        int[] lengths = new int[raw.length];
        for (int b = 0; b < raw.length; b++) {
            if (raw[b] < 0 || raw[b] > shape.kvLength()) {
                throw new UserError(lengthsFile + ": kv length " + raw[b] + " of sequence " + b + " is outside 0.."
                        + shape.kvLength() + " (the key length)");
            }
            lengths[b] = (int) raw[b];
        }
        return lengths;
    }

    private Mask.Additive readMask(AttentionShape s) {
        NpyArray a = Npy.read(maskFile);
        if (a.dtype() != DType.FLOAT32 && a.dtype() != DType.FLOAT16) {
            throw new UserError(maskFile + ": the mask must be float32 or float16, got " + a.dtype().numpyName());
        }
        long[] shape = a.shape();
        long sq = s.queryLength(), skv = s.kvLength(), b = s.batch(), h = s.heads();
        Mask.Layout layout = null;
        if (Arrays.equals(shape, new long[] {sq, skv})) layout = Mask.Layout.QUERY_KEY;
        else if (Arrays.equals(shape, new long[] {b, 1, sq, skv})) layout = Mask.Layout.BATCH_QUERY_KEY;
        else if (Arrays.equals(shape, new long[] {b, h, sq, skv})) layout = Mask.Layout.BATCH_HEAD_QUERY_KEY;
        if (layout == null) {
            throw new UserError(maskFile + ": mask shape " + a.shapeString() + " fits none of (" + sq + ", " + skv + "), ("
                    + b + ", 1, " + sq + ", " + skv + ") or (" + b + ", " + h + ", " + sq + ", " + skv + ")");
        }
        return new Mask.Additive(a.toFloatArray(), layout);
    }
}
