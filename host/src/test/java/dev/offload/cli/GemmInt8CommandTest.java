package dev.offload.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.tensor.DType;
import dev.offload.tensor.Npy;
import dev.offload.tensor.NpyArray;
import java.io.ByteArrayOutputStream;
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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code offload gemm-int8}: MatMulInteger on .npy files, and one-line errors for bad files. */
class GemmInt8CommandTest {
    @TempDir Path dir;

    static CliRun run(String... args) { return CliRun.of(args); }

    Path save(String name, NpyArray a) {
        Path p = dir.resolve(name);
        Npy.write(p, a);
        return p;
    }

    static byte[] randomBytes(Random rnd, int n) {
        byte[] b = new byte[n];
        rnd.nextBytes(b);
        return b;
    }

    /** NumPy's semantics computed independently: int64 sums, then the wrap of a C int32 accumulator. */
    static int[] numpyMatmulInteger(byte[] a, boolean aUnsigned, int[] za, byte[] b, boolean bUnsigned, int[] zb,
                                    int m, int k, int n) {
        int[] c = new int[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                long sum = 0;
                for (int p = 0; p < k; p++) {
                    long av = aUnsigned ? Byte.toUnsignedInt(a[i * k + p]) : a[i * k + p];
                    long bv = bUnsigned ? Byte.toUnsignedInt(b[p * n + j]) : b[p * n + j];
                    sum += (av - za[za.length == 1 ? 0 : i]) * (bv - zb[zb.length == 1 ? 0 : j]);
                }
                c[i * n + j] = (int) (sum & 0xFFFFFFFFL); // two's complement wrap to int32
            }
        }
        return c;
    }

    @ParameterizedTest
    @ValueSource(strings = {"cl:cpu", "java"})
    void computesMatMulIntegerWithPerRowAndPerColumnZeroPointFiles(String device) {
        Random rnd = new Random(7);
        int m = 7, k = 29, n = 13;
        byte[] a = randomBytes(rnd, m * k), b = randomBytes(rnd, k * n);
        byte[] za = randomBytes(rnd, m), zb = randomBytes(rnd, n);
        Path out = dir.resolve("C.npy");
        CliRun r = run("gemm-int8", "--a", save("A.npy", NpyArray.ofBytes(DType.UINT8, a, m, k)).toString(),
                "--b", save("B.npy", NpyArray.ofBytes(DType.INT8, b, k, n)).toString(),
                "--a-zero-point", save("za.npy", NpyArray.ofBytes(DType.UINT8, za, m)).toString(),
                "--b-zero-point", save("zb.npy", NpyArray.ofBytes(DType.INT8, zb, n)).toString(),
                "--out", out.toString(), "--device", device);
        assertEquals(0, r.exit(), r.err());
        NpyArray c = Npy.read(out);
        assertEquals(DType.INT32, c.dtype());
        assertArrayEquals(new long[] {m, n}, c.shape());
        int[] zaInts = new int[m], zbInts = new int[n];
        for (int i = 0; i < m; i++) zaInts[i] = Byte.toUnsignedInt(za[i]);
        for (int j = 0; j < n; j++) zbInts[j] = zb[j];
        assertArrayEquals(numpyMatmulInteger(a, true, zaInts, b, false, zbInts, m, k, n), c.toIntArray());
        assertTrue(r.out().contains("device: " + (device.equals("java") ? "java" : "cl:0:0")), r.out());
        assertTrue(r.out().contains("config: "), r.out());
        assertTrue(r.out().matches("(?s).*kernel time [0-9.]+ ms, [0-9.]+ GOPS.*"), r.out());
    }

    @Test
    void wrapsLikeAnInt32AccumulatorWhenSumsOverflow() {
        int m = 1, k = 70000, n = 2;
        byte[] a = new byte[m * k], b = new byte[k * n];
        Arrays.fill(a, (byte) 255);       // uint8 255 - 0
        Arrays.fill(b, (byte) 0);         // uint8 0 - 255 = -255
        Path out = dir.resolve("C.npy");
        CliRun r = run("gemm-int8", "--a", save("A.npy", NpyArray.ofBytes(DType.UINT8, a, m, k)).toString(),
                "--b", save("B.npy", NpyArray.ofBytes(DType.UINT8, b, k, n)).toString(),
                "--b-zero-point", "255", "--out", out.toString(), "--device", "cl:cpu");
        assertEquals(0, r.exit(), r.err());
        int want = (int) (-255L * 255 * k); // -4.55e9 wraps
        assertArrayEquals(new int[] {want, want}, Npy.read(out).toIntArray());
    }

    /** The bytes NumPy 1.x/2.x np.save writes: version 1.0, header padded with spaces to 64 bytes, then '\n'. */
    static byte[] numpyFile(String descr, boolean fortran, String shape, byte[] data) throws IOException {
        String dict = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': " + shape + ", }";
        int pad = 64 - (10 + dict.length() + 1) % 64;
        String header = dict + " ".repeat(pad % 64) + "\n";
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
        o.write(ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort((short) header.length()).array());
        o.write(header.getBytes(StandardCharsets.ISO_8859_1));
        o.write(data);
        return o.toByteArray();
    }

    @Test
    void readsFilesAsNumpyWritesThem() throws IOException {
        Path a = dir.resolve("A.npy"), b = dir.resolve("B.npy"), out = dir.resolve("C.npy");
        Files.write(a, numpyFile("|i1", false, "(2, 3)", new byte[] {1, -2, 3, -4, 5, -6}));
        Files.write(b, numpyFile("|i1", false, "(3, 1)", new byte[] {7, 8, -9}));
        CliRun r = run("gemm-int8", "--a", a.toString(), "--b", b.toString(), "--a-zero-point", "-1",
                "--out", out.toString(), "--device", "cl:cpu");
        assertEquals(0, r.exit(), r.err());
        // (A + 1) @ B = [[2,-1,4],[-3,6,-5]] @ [7,8,-9] = [14-8-36, -21+48+45]
        assertArrayEquals(new int[] {-30, 72}, Npy.read(out).toIntArray());
    }

    /** Runs with one broken input; expects exit 2, one line naming the file and problem, and no output file. */
    void assertRejected(String expectedInMessage, String... extra) {
        Path out = dir.resolve("C.npy");
        List<String> args = new ArrayList<>(List.of("gemm-int8", "--out", out.toString(), "--device", "cl:cpu"));
        args.addAll(List.of(extra));
        CliRun r = run(args.toArray(String[]::new));
        assertEquals(2, r.exit(), r.out() + r.err());
        assertTrue(r.err().contains(expectedInMessage), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertFalse(Files.exists(out), "no output may be written");
    }

    Path goodA() { return save("A.npy", NpyArray.ofBytes(DType.INT8, new byte[] {1, 2, 3, 4, 5, 6}, 2, 3)); }

    Path goodB() { return save("B.npy", NpyArray.ofBytes(DType.INT8, new byte[] {1, 2, 3, 4, 5, 6}, 3, 2)); }

    @Test
    void rejectsAWrongDtype() {
        Path f = save("F.npy", NpyArray.ofFloats(new float[6], 2, 3));
        assertRejected(f + ": A has dtype float32; it must be int8 or uint8", "--a", f.toString(), "--b", goodB().toString());
    }

    @Test
    void rejectsAnAThatIsNotTwoDimensional() {
        Path f = save("A3.npy", NpyArray.ofBytes(DType.INT8, new byte[6], 1, 2, 3));
        assertRejected(f + ": A has shape (1, 2, 3); it must be 2-D", "--a", f.toString(), "--b", goodB().toString());
    }

    @Test
    void rejectsMismatchedK() {
        Path b = save("B4.npy", NpyArray.ofBytes(DType.INT8, new byte[8], 4, 2));
        assertRejected(b + ": B has 4 rows but A", "--a", goodA().toString(), "--b", b.toString());
    }

    @Test
    void rejectsAZeroPointOfTheWrongLength() {
        Path z = save("za.npy", NpyArray.ofBytes(DType.INT8, new byte[3], 3));
        assertRejected(z + ": zero point has 3 values; it must have 1 or 2, one per row of A",
                "--a", goodA().toString(), "--b", goodB().toString(), "--a-zero-point", z.toString());
        assertRejected("--b-zero-point 300 is outside the int8 range",
                "--a", goodA().toString(), "--b", goodB().toString(), "--b-zero-point", "300");
    }

    @Test
    void rejectsTruncatedFortranOrderAndMissingFiles() throws IOException {
        Path t = dir.resolve("T.npy");
        byte[] full = numpyFile("|i1", false, "(2, 3)", new byte[6]);
        Files.write(t, Arrays.copyOf(full, full.length - 2));
        assertRejected(t + ": truncated", "--a", t.toString(), "--b", goodB().toString());
        Path f = dir.resolve("Fortran.npy");
        Files.write(f, numpyFile("|i1", true, "(2, 3)", new byte[6]));
        assertRejected(f + ": Fortran-order", "--a", f.toString(), "--b", goodB().toString());
        Path missing = dir.resolve("missing.npy");
        assertRejected(missing + ": no such file", "--a", goodA().toString(), "--b", missing.toString());
    }
}
