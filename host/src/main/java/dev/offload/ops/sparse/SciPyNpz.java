package dev.offload.ops.sparse;

import dev.offload.io.InputFile;
import dev.offload.limits.Sizes;
import dev.offload.tensor.DType;
import dev.offload.tensor.Npy;
import dev.offload.tensor.NpyArray;
import dev.offload.tensor.NpyException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Reads a sparse matrix written by SciPy's {@code scipy.sparse.save_npz} (CSR and BSR).
 *
 * <p>The layout assumed (what {@code save_npz} writes through {@code numpy.savez} / {@code savez_compressed}):
 * a zip archive, entries stored or deflated, holding one .npy file per array:
 * <ul>
 *   <li>{@code format.npy}: a 0-d array naming the format, bytes ({@code |S3}, e.g. {@code b'csr'}) or
 *       unicode ({@code <U3}); {@code csr} and {@code bsr} are read, other formats are rejected with advice;</li>
 *   <li>{@code shape.npy}: int64 (or int32) [2], the matrix shape [M, K];</li>
 *   <li>{@code data.npy}: int8 or float32 values, [nnz] for CSR, [blocks, R, C] for BSR;</li>
 *   <li>{@code indices.npy}: int32 or int64 column (block column) indices, [nnz] or [blocks];</li>
 *   <li>{@code indptr.npy}: int32 or int64 row (block row) pointers, [M + 1] or [M / R + 1].</li>
 * </ul>
 * Every problem (not a zip, a missing entry, an unsupported dtype, Fortran order, truncated data,
 * inconsistent arrays) is an {@link NpyException} naming the file, and the entry where there is one.
 */
public final class SciPyNpz {
    private SciPyNpz() {}

    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    public static SparseMatrix read(Path file) {
        InputFile.problem(file).ifPresent(p -> {
            throw new NpyException(file + ": " + p);
        });
        try (ZipFile zip = new ZipFile(file.toFile())) {
            String format = parseString(bytes(zip, entry(zip, file, "format.npy"), file), file + ":format.npy");
            long[] shape = toLongs(readArray(zip, file, "shape.npy"), file + ":shape.npy");
            if (shape.length != 2 || shape[0] < 0 || shape[1] < 0 || shape[0] > Integer.MAX_VALUE || shape[1] > Integer.MAX_VALUE) {
                throw new NpyException(file + ":shape.npy: expected two dimensions below 2^31, got " + java.util.Arrays.toString(shape));
            }
            int rows = (int) shape[0], cols = (int) shape[1];
            if (!format.equals("csr") && !format.equals("bsr")) {
                throw new NpyException(file + ": sparse format '" + format + "' is not supported; save a CSR or BSR matrix"
                        + " (matrix.tocsr() or matrix.tobsr(blocksize=(R, C)))");
            }
            NpyArray data = readArray(zip, file, "data.npy");
            if (data.dtype() != DType.INT8 && data.dtype() != DType.FLOAT32) {
                throw new NpyException(file + ":data.npy: values must be int8 or float32, got " + data.dtype().numpyName()
                        + " (use matrix.astype(np.int8) or np.float32)");
            }
            int[] indices = toInts(readArray(zip, file, "indices.npy"), file + ":indices.npy");
            int[] indptr = toInts(readArray(zip, file, "indptr.npy"), file + ":indptr.npy");
            Values values = data.dtype() == DType.INT8 ? new Values.Int8(data.toByteArray()) : new Values.Float32(data.toFloatArray());
            try {
                if (format.equals("csr")) {
                    if (data.rank() != 1) throw new NpyException(file + ":data.npy: CSR data must be 1-D, got shape " + data.shapeString());
                    return new CsrMatrix(rows, cols, indptr, indices, values);
                }
                if (data.rank() != 3) throw new NpyException(file + ":data.npy: BSR data must be [blocks, R, C], got shape " + data.shapeString());
                return new BsrMatrix(rows, cols, data.dim(1), data.dim(2), indptr, indices, values);
            } catch (IllegalArgumentException e) {
                throw new NpyException(file + ": inconsistent " + format + " arrays: " + e.getMessage());
            }
        } catch (ZipException e) {
            throw new NpyException(file + ": not a readable .npz (zip) file: " + e.getMessage());
        } catch (IOException e) {
            throw new NpyException(file + ": cannot read (" + e.getMessage() + ")");
        }
    }

    private static ZipEntry entry(ZipFile zip, Path file, String name) {
        ZipEntry e = zip.getEntry(name);
        if (e == null) throw new NpyException(file + ": no '" + name + "' in the archive (is it a scipy.sparse.save_npz file?)");
        return e;
    }

    /**
     * An entry's bytes, read no further than a Java array and the heap hold: an entry may inflate far beyond its
     * compressed size (a zip bomb), and its declared size may lie.
     */
    private static byte[] bytes(ZipFile zip, ZipEntry e, Path file) throws IOException {
        String what = file + ":" + e.getName();
        if (e.getSize() >= 0) Sizes.fitsHeap(what, e.getSize());
        try (InputStream in = zip.getInputStream(e)) {
            long limit = Math.min(Sizes.MAX_ARRAY_LENGTH, Runtime.getRuntime().maxMemory() / 2);
            byte[] b = in.readNBytes((int) Math.min(Sizes.MAX_ARRAY_LENGTH, limit + 1));
            if (b.length > limit) throw new NpyException(what + ": inflates to more than " + limit + " bytes; refusing to read it");
            return b;
        } catch (ZipException | java.io.EOFException ex) {
            throw new NpyException(file + ":" + e.getName() + ": truncated or corrupt entry (" + ex.getMessage() + ")");
        }
    }

    private static NpyArray readArray(ZipFile zip, Path file, String name) throws IOException {
        return Npy.parse(bytes(zip, entry(zip, file, name), file), file + ":" + name);
    }

    /** Parses a 0-d .npy array of bytes ({@code |Sn}) or unicode ({@code <Un}), which {@link Npy} does not read. */
    static String parseString(byte[] b, String name) {
        if (b.length < 10 || b[0] != (byte) 0x93 || b[1] != 'N' || b[2] != 'U' || b[3] != 'M' || b[4] != 'P' || b[5] != 'Y') {
            throw new NpyException(name + ": not a .npy file (bad magic)");
        }
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        long headerLen = b[6] == 1 ? Short.toUnsignedInt(bb.getShort(8)) : b.length >= 12 ? Integer.toUnsignedLong(bb.getInt(8)) : -1;
        int headerStart = b[6] == 1 ? 10 : 12;
        if (headerLen < 0 || headerStart + headerLen > b.length) throw new NpyException(name + ": truncated header");
        String header = new String(b, headerStart, (int) headerLen, StandardCharsets.ISO_8859_1);
        Matcher d = DESCR.matcher(header), s = SHAPE.matcher(header);
        if (!d.find() || !s.find()) throw new NpyException(name + ": header has no 'descr' or 'shape'");
        if (!s.group(1).isBlank()) throw new NpyException(name + ": expected a 0-d array, got shape (" + s.group(1) + ")");
        String descr = d.group(1);
        Matcher t = Pattern.compile("([|<=])([SU])(\\d+)").matcher(descr);
        if (!t.matches()) throw new NpyException(name + ": expected a bytes (|S) or unicode (<U) scalar, got dtype '" + descr + "'");
        long n = t.group(3).length() > 12 ? Long.MAX_VALUE / 8 : Long.parseLong(t.group(3));
        boolean unicode = t.group(2).equals("U");
        long size = unicode ? 4 * n : n;
        int start = headerStart + (int) headerLen;
        if (b.length - start < size) throw new NpyException(name + ": truncated: a " + descr + " scalar needs " + size + " bytes");
        Charset cs = unicode ? Charset.forName("UTF-32LE") : StandardCharsets.ISO_8859_1;
        String text = new String(b, start, (int) size, cs);
        int end = text.indexOf('\0');     // NumPy pads fixed-width strings with NULs
        return end < 0 ? text : text.substring(0, end);
    }

    private static long[] toLongs(NpyArray a, String name) {
        return switch (a.dtype()) {
            case INT64 -> a.toLongArray();
            case INT32 -> java.util.Arrays.stream(a.toIntArray()).asLongStream().toArray();
            default -> throw new NpyException(name + ": expected int32 or int64, got " + a.dtype().numpyName());
        };
    }

    /** int32 as is, int64 narrowed with a check (SciPy writes int64 indices for large matrices). */
    private static int[] toInts(NpyArray a, String name) {
        if (a.rank() != 1) throw new NpyException(name + ": expected a 1-D array, got shape " + a.shapeString());
        if (a.dtype() == DType.INT32) return a.toIntArray();
        long[] l = toLongs(a, name);
        int[] out = new int[l.length];
        for (int i = 0; i < l.length; i++) {
            if (l[i] < Integer.MIN_VALUE || l[i] > Integer.MAX_VALUE) {
                throw new NpyException(name + ": value " + l[i] + " at " + i + " does not fit int32");
            }
            out[i] = (int) l[i];
        }
        return out;
    }
}
