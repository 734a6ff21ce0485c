package dev.offload.tensor;

import dev.offload.io.AtomicFile;
import dev.offload.io.InputFile;
import dev.offload.limits.Sizes;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads and writes NumPy's .npy format (versions 1.0, 2.0 and 3.0; C order; the dtypes of {@link DType}).
 * Every problem is an {@link NpyException} naming the file: missing, not .npy, Fortran order,
 * unsupported dtype, truncated.
 */
public final class Npy {
    private Npy() {}

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    /** Reads a .npy file: a regular file (not a directory, FIFO or device), no larger than an array and the heap hold. */
    public static NpyArray read(Path file) {
        byte[] bytes;
        try {
            bytes = InputFile.readBytes(file.toString(), file);
        } catch (IllegalArgumentException e) {
            throw new NpyException(e.getMessage());
        }
        return parse(bytes, file.toString());
    }

    public static NpyArray read(InputStream in, String name) throws IOException {
        return parse(in.readAllBytes(), name);
    }

    /** Parses .npy bytes; {@code name} is used in error messages. */
    public static NpyArray parse(byte[] bytes, String name) {
        if (bytes.length < 10 || !java.util.Arrays.equals(bytes, 0, 6, MAGIC, 0, 6)) {
            throw new NpyException(name + ": not a .npy file (bad magic)");
        }
        int major = bytes[6];
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        // Header lengths are unsigned (a v2 length of 0x7fffffff must not wrap an int): compare them as longs.
        long headerLen;
        int headerStart;
        switch (major) {
            case 1 -> { headerLen = Short.toUnsignedInt(b.getShort(8)); headerStart = 10; }
            case 2, 3 -> {
                if (bytes.length < 12) throw new NpyException(name + ": truncated header");
                headerLen = Integer.toUnsignedLong(b.getInt(8));
                headerStart = 12;
            }
            default -> throw new NpyException(name + ": unsupported .npy version " + major + "." + bytes[7]);
        }
        if (headerStart + headerLen > bytes.length) {
            throw new NpyException(name + ": truncated header (it says " + headerLen + " bytes, the file has "
                    + (bytes.length - headerStart) + " after the prefix)");
        }
        String header = new String(bytes, headerStart, (int) headerLen,
                major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        String descr = group(DESCR, header, name, "descr");
        String fortran = group(FORTRAN, header, name, "fortran_order");
        String shapeText = group(SHAPE, header, name, "shape");
        if (fortran.equals("True")) {
            throw new NpyException(name + ": Fortran-order arrays are not supported (save with np.ascontiguousarray)");
        }
        DType dtype = DType.ofDescr(descr);
        if (dtype == null) {
            throw new NpyException(name + ": unsupported dtype '" + descr
                    + "' (supported: int8, uint8, int32, int64, float32, float16, little-endian)");
        }
        List<Long> dims = new ArrayList<>();
        for (String part : shapeText.split(",")) {
            String t = part.strip();
            if (t.isEmpty()) continue;
            try {
                long d = Long.parseLong(t.endsWith("L") ? t.substring(0, t.length() - 1) : t);
                if (d < 0) throw new NumberFormatException();
                dims.add(d);
            } catch (NumberFormatException e) {
                throw new NpyException(name + ": bad shape '(" + shapeText + ")'");
            }
        }
        long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
        long count = Sizes.elements(name, shape);
        long need = Sizes.bytes(name, count, dtype.size());
        int dataStart = headerStart + (int) headerLen;
        if (bytes.length - dataStart < need) {
            throw new NpyException(name + ": truncated: shape " + dims + " of " + dtype.numpyName() + " needs "
                    + need + " data bytes, the file has " + (bytes.length - dataStart));
        }
        byte[] data = java.util.Arrays.copyOfRange(bytes, dataStart, dataStart + (int) need);
        return new NpyArray(dtype, shape, data);
    }

    private static String group(Pattern p, String header, String name, String key) {
        Matcher m = p.matcher(header);
        if (!m.find()) throw new NpyException(name + ": header has no '" + key + "'");
        return m.group(1);
    }

    /** The header of {@code a}'s file: magic, version (1.0, or 2.0 when the header does not fit 65535 bytes), dict. */
    static byte[] header(NpyArray a) {
        StringBuilder shape = new StringBuilder("(");
        for (int i = 0; i < a.shape().length; i++) {
            shape.append(a.shape()[i]);
            if (a.shape().length == 1 || i < a.shape().length - 1) shape.append(", ");
        }
        shape.append(')');
        String dict = "{'descr': '" + a.dtype().descr() + "', 'fortran_order': False, 'shape': " + shape + ", }";
        int version = dict.length() + 11 < 65535 ? 1 : 2;
        int prefix = version == 1 ? 10 : 12;
        int total = prefix + dict.length() + 1;
        int pad = (64 - total % 64) % 64;
        String header = dict + " ".repeat(pad) + "\n";
        ByteArrayOutputStream out = new ByteArrayOutputStream(prefix + header.length());
        out.writeBytes(MAGIC);
        out.write(version);
        out.write(0);
        ByteBuffer len = ByteBuffer.allocate(version == 1 ? 2 : 4).order(ByteOrder.LITTLE_ENDIAN);
        if (version == 1) len.putShort((short) header.length()); else len.putInt(header.length());
        out.writeBytes(len.array());
        out.writeBytes(header.getBytes(StandardCharsets.ISO_8859_1));
        return out.toByteArray();
    }

    /** The .npy file's bytes. */
    public static byte[] toBytes(NpyArray a) {
        byte[] h = header(a);
        byte[] out = java.util.Arrays.copyOf(h, h.length + a.data().length);
        System.arraycopy(a.data(), 0, out, h.length, a.data().length);
        return out;
    }

    /**
     * Writes through {@link AtomicFile}: whole or not at all, never replacing anything but a regular file, no temporary
     * file left behind; a failure is an {@link dev.offload.io.OutputFileException}. The data streams from the array.
     */
    public static void write(Path file, NpyArray a) {
        AtomicFile.write(file, out -> {
            out.write(header(a));
            out.write(a.data());
        });
    }
}
