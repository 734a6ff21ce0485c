package dev.offload.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.ops.attention.AttentionProblem;
import dev.offload.ops.attention.AttentionReference;
import dev.offload.ops.attention.AttentionShape;
import dev.offload.ops.attention.Mask;
import dev.offload.ops.attention.Storage;
import dev.offload.tensor.DType;
import dev.offload.tensor.Npy;
import dev.offload.tensor.NpyArray;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code offload attention} run in-process: results against the reference, and every input error. */
class AttentionCommandTest {
    @TempDir Path dir;

    CliRun run(String... args) {
        List<String> all = new ArrayList<>(List.of("attention"));
        all.addAll(List.of(args));
        return CliRun.of(all.toArray(String[]::new));
    }

    static float[] random(long seed, int n) {
        Random r = new Random(seed);
        float[] a = new float[n];
        for (int i = 0; i < a.length; i++) a[i] = r.nextFloat() * 4 - 2;
        return a;
    }

    Path write(String name, NpyArray a) {
        Path p = dir.resolve(name);
        Npy.write(p, a);
        return p;
    }

    static NpyArray half(float[] v, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(2 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) b.putShort(Float.floatToFloat16(x));
        return new NpyArray(DType.FLOAT16, shape, b.array());
    }

    /** Q [2,4,19,32], K/V [2,2,45,32] with default inputs written to q.npy, k.npy, v.npy. */
    float[][] writeBatchedInputs() {
        float[] q = random(1, 2 * 4 * 19 * 32), k = random(2, 2 * 2 * 45 * 32), v = random(3, 2 * 2 * 45 * 32);
        write("q.npy", NpyArray.ofFloats(q, 2, 4, 19, 32));
        write("k.npy", NpyArray.ofFloats(k, 2, 2, 45, 32));
        write("v.npy", NpyArray.ofFloats(v, 2, 2, 45, 32));
        return new float[][] {q, k, v};
    }

    String[] io(String... extra) {
        List<String> a = new ArrayList<>(List.of("--q", dir.resolve("q.npy").toString(), "--k", dir.resolve("k.npy").toString(),
                "--v", dir.resolve("v.npy").toString(), "--out", dir.resolve("o.npy").toString()));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    @Test
    void batchedCausalAttentionWithLengthsAndMaskMatchesTheReferenceOnOpenCl() {
        float[][] in = writeBatchedInputs();
        float[] bias = random(4, 19 * 45);
        write("l.npy", NpyArray.ofInts(new int[] {45, 30}, 2));
        write("m.npy", NpyArray.ofFloats(bias, 19, 45));
        CliRun r = run(io("--causal", "--scale", "0.3", "--kv-lengths", dir.resolve("l.npy").toString(),
                "--mask", dir.resolve("m.npy").toString(), "--device", "cl:cpu"));
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("device: cl:"), r.out());
        assertTrue(r.out().contains("kernel time"), r.out());
        NpyArray o = Npy.read(dir.resolve("o.npy"));
        assertEquals(DType.FLOAT32, o.dtype());
        assertArrayEquals(new long[] {2, 4, 19, 32}, o.shape());
        AttentionShape s = new AttentionShape(2, 4, 2, 19, 45, 32);
        float[] want = AttentionReference.compute(new AttentionProblem(s, new Mask(true, new int[] {45, 30},
                new Mask.Additive(bias, Mask.Layout.QUERY_KEY)), 0.3f, Storage.FLOAT32), in[0], in[1], in[2]);
        float[] got = o.toFloatArray();
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < want.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(got[i] - want[i]));
            maxRef = Math.max(maxRef, Math.abs(want[i]));
        }
        assertTrue(maxDiff / maxRef <= AttentionReference.FLOAT32_BOUND, "relative error " + maxDiff / maxRef);
    }

    @Test
    void threeDimensionalFloat16InputsRunAsBatchOneOnTheJavaDevice() {
        float[] q = random(5, 2 * 3 * 16), k = random(6, 2 * 7 * 16), v = random(7, 2 * 7 * 16);
        write("q.npy", half(q, 2, 3, 16));
        write("k.npy", half(k, 2, 7, 16));
        write("v.npy", half(v, 2, 7, 16));
        CliRun r = run(io("--device", "java"));
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("device: java"), r.out());
        NpyArray o = Npy.read(dir.resolve("o.npy"));
        assertArrayEquals(new long[] {2, 3, 16}, o.shape());
        float[] want = AttentionReference.compute(AttentionProblem.of(AttentionShape.of(1, 2, 3, 7, 16))
                .withStorage(Storage.FLOAT16), q, k, v);
        assertArrayEquals(want, o.toFloatArray());
    }

    @Test
    void float16InputsOnOpenClMatchTheJavaDevice() {
        write("q.npy", half(random(8, 4 * 17 * 64), 4, 17, 64));
        write("k.npy", half(random(9, 2 * 33 * 64), 2, 33, 64));
        write("v.npy", half(random(10, 2 * 33 * 64), 2, 33, 64));
        assertEquals(0, run(io("--causal", "--device", "java")).exit());
        float[] java = Npy.read(dir.resolve("o.npy")).toFloatArray();
        CliRun r = run(io("--causal", "--device", "cl:cpu"));
        assertEquals(0, r.exit(), r.err());
        float[] cl = Npy.read(dir.resolve("o.npy")).toFloatArray();
        for (int i = 0; i < java.length; i++) assertEquals(java[i], cl[i], 1e-5f, "element " + i);
    }

    /** Runs with broken inputs: exit 2, one line naming the file and the problem, no output written. */
    void assertRejected(String fileName, String problem, String... extra) {
        CliRun r = run(io(extra));
        assertEquals(2, r.exit(), r.out() + r.err());
        String line = r.err().strip();
        assertFalse(line.contains("\n"), "one line: " + line);
        assertTrue(line.contains(fileName), "names " + fileName + ": " + line);
        assertTrue(line.contains(problem), "says '" + problem + "': " + line);
        assertFalse(Files.exists(dir.resolve("o.npy")), "no output is written");
    }

    @Test
    void integerQueriesAreRejected() {
        writeBatchedInputs();
        write("q.npy", NpyArray.ofInts(new int[2 * 4 * 19 * 32], 2, 4, 19, 32));
        assertRejected("q.npy", "must be float32 or float16, got int32");
    }

    @Test
    void twoDimensionalQueriesAreRejected() {
        writeBatchedInputs();
        write("q.npy", NpyArray.ofFloats(random(1, 19 * 32), 19, 32));
        assertRejected("q.npy", "3-D [H,S,D] or 4-D");
    }

    /** K and V of batch 2 with {@code heads} heads of {@code length} keys of size {@code dim}, replacing the batched ones. */
    private void writeKeysAndValues(int heads, int length, int dim) {
        write("k.npy", NpyArray.ofFloats(random(2, 2 * heads * length * dim), 2, heads, length, dim));
        write("v.npy", NpyArray.ofFloats(random(2, 2 * heads * length * dim), 2, heads, length, dim));
    }

    @Test
    void mismatchedHeadDimensionIsRejected() {
        writeBatchedInputs();
        writeKeysAndValues(2, 45, 64);
        assertRejected("k.npy", "head dimension 64 differs from Q head dimension 32");
    }

    @Test
    void queryHeadsNotAMultipleOfKvHeadsAreRejected() {
        writeBatchedInputs();
        writeKeysAndValues(3, 45, 32);
        assertRejected("k.npy", "H % Hkv == 0");
    }

    @Test
    void keysAndValuesOfDifferentLengthsAreRejected() {
        writeBatchedInputs();
        write("v.npy", NpyArray.ofFloats(random(2, 2 * 2 * 44 * 32), 2, 2, 44, 32));
        assertRejected("v.npy", "differs from K shape");
    }

    @Test
    void kvLengthsOfTheWrongShapeOrRangeAreRejected() {
        writeBatchedInputs();
        write("l.npy", NpyArray.ofInts(new int[] {45, 30, 1}, 3));
        assertRejected("l.npy", "must have shape (2,)", "--kv-lengths", dir.resolve("l.npy").toString());
        write("l.npy", NpyArray.ofInts(new int[] {46, 30}, 2));
        assertRejected("l.npy", "outside 0..45", "--kv-lengths", dir.resolve("l.npy").toString());
    }

    @Test
    void aMaskOfNoKnownShapeIsRejected() {
        writeBatchedInputs();
        write("m.npy", NpyArray.ofFloats(new float[45 * 19], 45, 19));
        assertRejected("m.npy", "fits none of", "--mask", dir.resolve("m.npy").toString());
    }

    @Test
    void aTruncatedFileIsRejected() throws IOException {
        writeBatchedInputs();
        Path k = dir.resolve("k.npy");
        byte[] bytes = Files.readAllBytes(k);
        Files.write(k, Arrays.copyOf(bytes, bytes.length - 100));
        assertRejected("k.npy", "truncated");
    }

    @Test
    void aFortranOrderFileIsRejected() throws IOException {
        writeBatchedInputs();
        Path v = dir.resolve("v.npy");
        String text = new String(Files.readAllBytes(v), StandardCharsets.ISO_8859_1)
                .replace("'fortran_order': False", "'fortran_order': True ");
        Files.write(v, text.getBytes(StandardCharsets.ISO_8859_1));
        assertRejected("v.npy", "Fortran-order");
    }

    @Test
    void aMissingFileIsRejected() throws IOException {
        writeBatchedInputs();
        Files.delete(dir.resolve("q.npy"));
        assertRejected("q.npy", "no such file");
    }
}
