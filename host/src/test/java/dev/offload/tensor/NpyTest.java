package dev.offload.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** NumPy's .npy format as NumPy writes it, and the errors for files that cannot be used. */
class NpyTest {
    @TempDir Path dir;

    /** A file laid out byte for byte as numpy.save writes it (version 1.0, header padded to 64 bytes). */
    static byte[] numpyFile(int major, String dict, byte[] data) {
        int prefix = major == 1 ? 10 : 12;
        int pad = (64 - (prefix + dict.length() + 1) % 64) % 64;
        String header = dict + " ".repeat(pad) + "\n";
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
        ByteBuffer len = ByteBuffer.allocate(major == 1 ? 2 : 4).order(ByteOrder.LITTLE_ENDIAN);
        if (major == 1) len.putShort((short) header.length()); else len.putInt(header.length());
        out.writeBytes(len.array());
        out.writeBytes(header.getBytes(StandardCharsets.ISO_8859_1));
        out.writeBytes(data);
        return out.toByteArray();
    }

    @Test
    void readsAVersion1FileAsNumpyWritesIt() {
        byte[] data = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN).putInt(1).putInt(-2).putInt(3)
                .putInt(4).putInt(5).putInt(Integer.MIN_VALUE).array();
        NpyArray a = Npy.parse(numpyFile(1, "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }", data), "x.npy");
        assertEquals(DType.INT32, a.dtype());
        assertArrayEquals(new long[] {2, 3}, a.shape());
        assertArrayEquals(new int[] {1, -2, 3, 4, 5, Integer.MIN_VALUE}, a.toIntArray());
    }

    @Test
    void readsVersion2AndOneDimensionalAndScalarShapes() {
        NpyArray v = Npy.parse(numpyFile(2, "{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }",
                new byte[] {(byte) 255, 0, 7}), "v.npy");
        assertEquals(DType.UINT8, v.dtype());
        assertArrayEquals(new long[] {3}, v.shape());
        NpyArray s = Npy.parse(numpyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }",
                ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(2.5f).array()), "s.npy");
        assertEquals(0, s.rank());
        assertArrayEquals(new float[] {2.5f}, s.toFloatArray());
    }

    @Test
    void float16IsWidenedExactly() {
        byte[] data = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN)
                .putShort(Float.floatToFloat16(1.5f)).putShort(Float.floatToFloat16(-0.099975586f)).array();
        NpyArray h = Npy.parse(numpyFile(1, "{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", data), "h.npy");
        assertArrayEquals(new float[] {1.5f, -0.099975586f}, h.toFloatArray());
    }

    @Test
    void writeThenReadRoundTripsEveryDtype() {
        for (NpyArray a : new NpyArray[] {
                NpyArray.ofFloats(new float[] {1, -2, 3.25f, Float.MIN_VALUE}, 2, 2),
                NpyArray.ofInts(new int[] {7, -7, 0x7FFFFFFF}, 3),
                NpyArray.ofLongs(new long[] {101, 2045, 0}, 1, 3),
                NpyArray.ofBytes(DType.INT8, new byte[] {-128, 127, 5, 1, 2, 3}, 3, 2)}) {
            Path f = dir.resolve(a.dtype() + ".npy");
            Npy.write(f, a);
            NpyArray b = Npy.read(f);
            assertEquals(a.dtype(), b.dtype());
            assertArrayEquals(a.shape(), b.shape());
            assertArrayEquals(a.data(), b.data());
        }
    }

    @Test
    void writingNeverReplacesAnythingButARegularFileAndLeavesNoTempFileBehind(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        NpyArray a = NpyArray.ofFloats(new float[] {1, 2, 3}, 3);
        Path folder = java.nio.file.Files.createDirectory(dir.resolve("out.npy"));
        Path link = java.nio.file.Files.createSymbolicLink(dir.resolve("link.npy"), dir.resolve("target.npy"));
        // A FIFO of the test's own stands for device nodes: a regression must not replace /dev/full on the machine.
        Path fifo = dir.resolve("fifo.npy");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor(), "mkfifo");
        for (Path p : new Path[] {fifo, folder, link}) {
            var e = org.junit.jupiter.api.Assertions.assertThrows(dev.offload.io.OutputFileException.class, () -> Npy.write(p, a), p.toString());
            assertTrue(e.getMessage().startsWith(p + ": cannot write"), e.getMessage());
        }
        assertTrue(!java.nio.file.Files.isRegularFile(fifo, java.nio.file.LinkOption.NOFOLLOW_LINKS) && java.nio.file.Files.exists(fifo), "the FIFO was replaced");
        assertTrue(java.nio.file.Files.isDirectory(folder));
        assertTrue(!java.nio.file.Files.exists(dir.resolve("target.npy")), "wrote through the link");
        try (var files = java.nio.file.Files.list(dir)) {
            assertEquals(List.of(), files.filter(f -> f.getFileName().toString().endsWith(".tmp")).toList(), "temp files left behind");
        }
        Npy.write(dir.resolve("ok.npy"), a);
        Npy.write(dir.resolve("ok.npy"), a);   // replacing a regular file is fine
        assertArrayEquals(new float[] {1, 2, 3}, Npy.read(dir.resolve("ok.npy")).toFloatArray());
    }

    @Test
    void badFilesAreRefusedWithTheFileNameAndTheProblem() throws Exception {
        Path missing = dir.resolve("missing.npy");
        assertTrue(assertThrows(NpyException.class, () -> Npy.read(missing)).getMessage()
                .equals(missing + ": no such file"));

        Path fortran = dir.resolve("f.npy");
        Files.write(fortran, numpyFile(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", new byte[4]));
        assertTrue(assertThrows(NpyException.class, () -> Npy.read(fortran)).getMessage().contains("Fortran"));

        Path truncated = dir.resolve("t.npy");
        Files.write(truncated, numpyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", new byte[10]));
        String m = assertThrows(NpyException.class, () -> Npy.read(truncated)).getMessage();
        assertTrue(m.startsWith(truncated.toString()) && m.contains("truncated"), m);

        Path dtype = dir.resolve("d.npy");
        Files.write(dtype, numpyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", new byte[8]));
        assertTrue(assertThrows(NpyException.class, () -> Npy.read(dtype)).getMessage().contains("unsupported dtype '<f8'"));

        Path bigEndian = dir.resolve("b.npy");
        Files.write(bigEndian, numpyFile(1, "{'descr': '>i4', 'fortran_order': False, 'shape': (1,), }", new byte[4]));
        assertThrows(NpyException.class, () -> Npy.read(bigEndian));

        Path text = dir.resolve("n.npy");
        Files.writeString(text, "not numpy at all");
        assertTrue(assertThrows(NpyException.class, () -> Npy.read(text)).getMessage().contains("not a .npy file"));
    }
}
