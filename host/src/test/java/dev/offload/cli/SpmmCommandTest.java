package dev.offload.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.ops.sparse.BsrMatrix;
import dev.offload.ops.sparse.CsrMatrix;
import dev.offload.ops.sparse.DenseMatrix;
import dev.offload.ops.sparse.Pruning;
import dev.offload.ops.sparse.SparseMatrix;
import dev.offload.ops.sparse.SpmmReference;
import dev.offload.ops.sparse.SpmmTolerance;
import dev.offload.ops.sparse.Values;
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
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code offload spmm} reads SciPy .npz and dense .npy inputs, computes on a device, and refuses bad input cleanly. */
class SpmmCommandTest {
    @TempDir Path dir;

    static CliRun run(String... args) { return CliRun.of(args); }

    // ---- writing .npz the way scipy.sparse.save_npz lays it out (numpy.savez: one .npy per array in a zip) ----

    /** A 0-d bytes ('|S3') or unicode ('<U3') array, as numpy.save writes np.array(b'csr') or np.array('csr'). */
    static byte[] stringNpy(String text, boolean unicode) {
        String descr = unicode ? "<U" + text.length() : "|S" + text.length();
        byte[] payload = text.getBytes(unicode ? java.nio.charset.Charset.forName("UTF-32LE") : StandardCharsets.US_ASCII);
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (), }";
        int pad = (64 - (10 + dict.length() + 1) % 64) % 64;
        String header = dict + " ".repeat(pad) + "\n";
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.writeBytes(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
        o.writeBytes(ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort((short) header.length()).array());
        o.writeBytes(header.getBytes(StandardCharsets.ISO_8859_1));
        o.writeBytes(payload);
        return o.toByteArray();
    }

    static void writeZip(Path file, Map<String, byte[]> entries, boolean deflate) throws IOException {
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(file))) {
            for (var e : entries.entrySet()) {
                ZipEntry ze = new ZipEntry(e.getKey());
                if (!deflate) {
                    CRC32 crc = new CRC32();
                    crc.update(e.getValue());
                    ze.setMethod(ZipEntry.STORED);
                    ze.setSize(e.getValue().length);
                    ze.setCrc(crc.getValue());
                }
                z.putNextEntry(ze);
                z.write(e.getValue());
                z.closeEntry();
            }
        }
    }

    static NpyArray data(Values v, long... shape) {
        return switch (v) {
            case Values.Int8 i -> NpyArray.ofBytes(DType.INT8, i.data(), shape);
            case Values.Float32 f -> NpyArray.ofFloats(f.data(), shape);
        };
    }

    static NpyArray index(int[] a, boolean int64) {
        return int64 ? NpyArray.ofLongs(Arrays.stream(a).asLongStream().toArray(), a.length) : NpyArray.ofInts(a, a.length);
    }

    /** save_npz's entries for a CSR or BSR matrix. */
    static Map<String, byte[]> npzEntries(SparseMatrix s, boolean unicodeFormat, boolean int64Indices) {
        Map<String, byte[]> m = new LinkedHashMap<>();
        m.put("indices.npy", Npy.toBytes(index(s instanceof CsrMatrix c ? c.colIdx() : ((BsrMatrix) s).blockColIdx(), int64Indices)));
        m.put("indptr.npy", Npy.toBytes(index(s instanceof CsrMatrix c ? c.rowPtr() : ((BsrMatrix) s).blockRowPtr(), int64Indices)));
        m.put("format.npy", stringNpy(s instanceof CsrMatrix ? "csr" : "bsr", unicodeFormat));
        m.put("shape.npy", Npy.toBytes(NpyArray.ofLongs(new long[] {s.rows(), s.cols()}, 2)));
        m.put("data.npy", Npy.toBytes(s instanceof BsrMatrix b
                ? data(b.values(), b.blockCount(), b.blockRows(), b.blockCols()) : data(s.values(), s.values().length())));
        return m;
    }

    static byte[] int8(Random r, int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) { int v; do v = r.nextInt(256) - 128; while (v == 0); b[i] = (byte) v; }
        return b;
    }

    static float[] float32(Random r, int n) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) { float v; do v = r.nextFloat() * 2 - 1; while (v == 0); f[i] = v; }
        return f;
    }

    // ---- tests ----

    @Test
    void csrNpzOfInt8TimesInt8GivesTheInt32ProductOnTheOpenClDevice() throws IOException {
        Random rnd = new Random(1);
        CsrMatrix s = CsrMatrix.fromDense(Pruning.magnitude(DenseMatrix.ofInt8(37, 53, int8(rnd, 37 * 53)), 0.9));
        byte[] b = int8(rnd, 53 * 19);
        Path a = dir.resolve("A.npz"), bf = dir.resolve("B.npy"), c = dir.resolve("C.npy");
        writeZip(a, npzEntries(s, false, false), false);
        Npy.write(bf, NpyArray.ofBytes(DType.INT8, b, 53, 19));
        CliRun r = run("spmm", "--a", a.toString(), "--b", bf.toString(), "--out", c.toString(), "--device", "cl:cpu");
        assertEquals(0, r.exit(), r.err());
        NpyArray got = Npy.read(c);
        assertEquals(DType.INT32, got.dtype());
        assertArrayEquals(new long[] {37, 19}, got.shape());
        assertArrayEquals(SpmmReference.denseInt8(s.toDense(), b, 19), got.toIntArray());
        assertTrue(r.out().contains("format csr"), r.out());
        assertTrue(r.out().contains("sparsity 0.9"), r.out());
        assertTrue(r.out().contains("kernel"), r.out());
        assertTrue(r.out().contains("cl:"), r.out());
    }

    @Test
    void deflatedBsrNpzWithUnicodeFormatAndInt64IndicesGivesTheFloat32Product() throws IOException {
        Random rnd = new Random(2);
        BsrMatrix s = BsrMatrix.fromDense(Pruning.magnitude(DenseMatrix.ofFloat32(24, 36, float32(rnd, 24 * 36)), 0.8), 4, 6);
        float[] b = float32(rnd, 36 * 33);
        Path a = dir.resolve("W.npz"), bf = dir.resolve("X.npy"), c = dir.resolve("Y.npy");
        writeZip(a, npzEntries(s, true, true), true);
        Npy.write(bf, NpyArray.ofFloats(b, 36, 33));
        for (String device : new String[] {"cl:cpu", "java"}) {
            CliRun r = run("spmm", "--a", a.toString(), "--b", bf.toString(), "--out", c.toString(), "--device", device);
            assertEquals(0, r.exit(), r.err());
            assertTrue(r.out().contains("format bsr:4x6"), r.out());
            NpyArray got = Npy.read(c);
            assertEquals(DType.FLOAT32, got.dtype());
            float[] want = SpmmReference.denseFloat32(s.toDense(), b, 33);
            assertEquals(-1, SpmmTolerance.firstViolation(want, got.toFloatArray(), SpmmTolerance.elementBounds(s, b, 33)), device);
        }
    }

    @Test
    void denseNpyIsConvertedToTheRequestedFormatAndPrunedOnRequest() {
        Random rnd = new Random(3);
        byte[] a = int8(rnd, 16 * 22), b = int8(rnd, 22 * 7);
        Path af = dir.resolve("A.npy"), bf = dir.resolve("B.npy"), c = dir.resolve("C.npy");
        Npy.write(af, NpyArray.ofBytes(DType.INT8, a, 16, 22));
        Npy.write(bf, NpyArray.ofBytes(DType.INT8, b, 22, 7));
        DenseMatrix dense = DenseMatrix.ofInt8(16, 22, a);
        CliRun r = run("spmm", "--a", af.toString(), "--b", bf.toString(), "--prune", "2:4", "--out", c.toString(), "--device", "cl:cpu");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("format 2:4"), r.out());
        assertArrayEquals(SpmmReference.denseInt8(Pruning.twoFour(dense), b, 7), Npy.read(c).toIntArray());
        r = run("spmm", "--a", af.toString(), "--b", bf.toString(), "--prune", "0.75", "--format", "bsr:3x4",
                "--out", c.toString(), "--device", "cl:cpu");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("format bsr:3x4"), r.out());
        assertArrayEquals(SpmmReference.denseInt8(Pruning.magnitude(dense, 0.75), b, 7), Npy.read(c).toIntArray());
    }

    @Test
    void twoFourOnAMatrixThatIsNot24IsAnErrorNamingRowAndGroupAndWritesNothing() {
        Random rnd = new Random(4);
        Path af = dir.resolve("A.npy"), bf = dir.resolve("B.npy"), c = dir.resolve("C.npy");
        Npy.write(af, NpyArray.ofFloats(float32(rnd, 8 * 12), 8, 12));
        Npy.write(bf, NpyArray.ofFloats(float32(rnd, 12 * 5), 12, 5));
        CliRun r = run("spmm", "--a", af.toString(), "--b", bf.toString(), "--format", "2:4", "--out", c.toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("row 0, group 0") && r.err().contains("A.npy"), r.err());
        assertFalse(Files.exists(c));
    }

    /** Each bad input: exit code 2, one line on stderr naming the file and the problem, no output file. */
    @Test
    void badInputsAreOneLineErrorsWithExitCode2AndNoOutput() throws IOException {
        Random rnd = new Random(5);
        CsrMatrix s = CsrMatrix.fromDense(Pruning.magnitude(DenseMatrix.ofInt8(6, 10, int8(rnd, 60)), 0.5));
        Path good = dir.resolve("A.npz"), b8 = dir.resolve("B8.npy"), bf = dir.resolve("Bf.npy"), bk = dir.resolve("Bk.npy");
        writeZip(good, npzEntries(s, false, false), false);
        Npy.write(b8, NpyArray.ofBytes(DType.INT8, int8(rnd, 10 * 3), 10, 3));
        Npy.write(bf, NpyArray.ofFloats(float32(rnd, 10 * 3), 10, 3));
        Npy.write(bk, NpyArray.ofBytes(DType.INT8, int8(rnd, 9 * 3), 9, 3));
        Path fortran = dir.resolve("F.npy");
        Files.write(fortran, new String(Npy.toBytes(NpyArray.ofBytes(DType.INT8, int8(rnd, 30), 10, 3)), StandardCharsets.ISO_8859_1)
                .replace("False", "True ").getBytes(StandardCharsets.ISO_8859_1));
        Path truncated = dir.resolve("T.npz");
        byte[] whole = Files.readAllBytes(good);
        Files.write(truncated, Arrays.copyOf(whole, whole.length / 2));
        Path noIndices = dir.resolve("N.npz");
        Map<String, byte[]> missing = npzEntries(s, false, false);
        missing.remove("indices.npy");
        writeZip(noIndices, missing, true);
        Path coo = dir.resolve("coo.npz");
        Map<String, byte[]> cooEntries = npzEntries(s, false, false);
        cooEntries.put("format.npy", stringNpy("coo", false));
        writeZip(coo, cooEntries, false);
        Path shortData = dir.resolve("S.npz");
        Map<String, byte[]> sd = npzEntries(s, false, false);
        byte[] d = sd.get("data.npy");
        sd.put("data.npy", Arrays.copyOf(d, d.length - 3));
        writeZip(shortData, sd, false);

        String[][] cases = {
                {good.toString(), bf.toString(), "Bf.npy", "float32"},                  // dtypes differ
                {good.toString(), bk.toString(), "Bk.npy", "rows"},                     // K differs
                {dir.resolve("nope.npz").toString(), b8.toString(), "nope.npz", "no such file"},
                {good.toString(), dir.resolve("nope.npy").toString(), "nope.npy", "no such file"},
                {good.toString(), fortran.toString(), "F.npy", "Fortran"},
                {truncated.toString(), b8.toString(), "T.npz", "zip"},
                {noIndices.toString(), b8.toString(), "N.npz", "indices.npy"},
                {coo.toString(), b8.toString(), "coo.npz", "coo"},
                {shortData.toString(), b8.toString(), "S.npz", "truncated"},
        };
        for (String[] k : cases) {
            Path c = dir.resolve("C.npy");
            CliRun r = run("spmm", "--a", k[0], "--b", k[1], "--out", c.toString(), "--device", "java");
            String what = k[2] + " / " + k[3] + ": " + r.err();
            assertEquals(2, r.exit(), what);
            assertEquals(1, r.err().strip().lines().count(), what);
            assertTrue(r.err().contains(k[2]) && r.err().contains(k[3]), what);
            assertFalse(Files.exists(c), what);
        }
    }
}
