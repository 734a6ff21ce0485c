package dev.offload.bitstream.layout;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The structure of a PoCL program binary (what {@code clGetProgramInfo(CL_PROGRAM_BINARIES)} returns on PoCL), walked
 * field by field before PoCL sees it: PoCL deserializes with {@code assert}s and unchecked lengths, so a truncated or
 * altered binary aborts the whole process (exit 134) instead of failing the call.
 *
 * <p>Format version 9 (PoCL 3.x, read from PoCL's {@code pocl_binary.c} and checked on every binary this machine
 * builds), all integers little-endian, strings a {@code u32} length then the bytes:
 * <pre>
 * header   "poclbin\0", u64 device id, u32 version, u32 kernel count, u64 flags (bit 0: flush denormals; high word: the
 *          CL_PROGRAM_BINARY_TYPE), u32 root entry count,
 *          41-byte build hash (a NUL-terminated path part such as "NF/DEMM...")
 * root     per entry: u64 size, then file records filling exactly that size
 * kernel   u64 record size, u64 files size, u32 argument info size, name, u32 argument count, u32 local count,
 *          3 x u64 required work-group size, u64 per local, attributes string, u64 argument metadata flags,
 *          per argument: u32 access, u32 address space, u64 type qualifier, u32 type, u32 type size, name, type name
 *          (together exactly the argument info size), then file records filling exactly the files size
 * file     path string (absolute within PoCL's cache folder: "/program.bc", "/saxpy/0-0-0/saxpy.so"), u32 size, bytes
 * </pre>
 * Nothing may follow the last kernel. PoCL writes each file record to disk under its cache folder, so paths must
 * stay inside it (no "..", no empty parts); bitcode must start with LLVM's magic and shared objects must be sound ELF.
 */
final class PoclBinaryLayout {
    private PoclBinaryLayout() {}

    static final byte[] MAGIC = "poclbin\0".getBytes(StandardCharsets.US_ASCII);
    static final long VERSION = 9;
    private static final int HASH_BYTES = 41, MAX_NAME = 1024, MAX_PATH = 1024, MAX_ATTRIBUTES = 1 << 16;
    private static final long MAX_KERNELS = 4096, MAX_ARGS = 1 << 16, MAX_LOCALS = 1 << 16;
    /** PoCL asserts that a binary has at most as many root entries as its device serializes: two by default. */
    private static final long MAX_ROOT_ENTRIES = 2;
    private static final byte[] BITCODE = {'B', 'C', (byte) 0xC0, (byte) 0xDE};
    private static final byte[] BITCODE_WRAPPER = {(byte) 0xDE, (byte) 0xC0, 0x17, 0x0B};

    static boolean isPocl(byte[] b) { return Formats.startsWith(b, MAGIC); }

    static void check(byte[] b) {
        ByteCursor c = ByteCursor.littleEndian(b);
        if (!Arrays.equals(c.bytes(MAGIC.length, "magic"), MAGIC)) throw new LayoutException("not a PoCL binary (no poclbin magic)");
        c.u64("device id");
        long version = c.u32("format version");
        if (version != VERSION) {
            throw c.fail("PoCL binary format version " + version + "; offload can check version " + VERSION
                    + " (PoCL 3.x) only, so it does not hand this one to the driver");
        }
        long kernels = count(c, "kernel count", 1, MAX_KERNELS);
        flags(c);
        long roots = count(c, "root entry count", 1, MAX_ROOT_ENTRIES);
        buildHash(c);
        for (long i = 0; i < roots; i++) {
            long size = c.u64("root entry " + i + " size");
            if (size == 0) throw c.fail("root entry " + i + " is empty");
            files(c.slice(size, "root entry " + i));
        }
        for (long k = 0; k < kernels; k++) kernel(c, k);
        if (c.remaining() != 0) throw c.fail(c.remaining() + " bytes follow the last kernel");
    }

    /**
     * Bit 0 flushes denormals; the high word is the CL_PROGRAM_BINARY_TYPE (none, compiled object, library or
     * executable). Any other bit belongs to a later format (bit 1 announces program-scope variables, an extra header
     * field PoCL would read past), so it is refused.
     */
    private static void flags(ByteCursor c) {
        long flags = c.u64("flags");
        long type = flags >>> 32;
        if ((flags & 0xFFFF_FFFEL) != 0 || (type != 0 && type != 1 && type != 2 && type != 4)) {
            throw c.fail("flags 0x" + Long.toHexString(flags) + " are not those of a version 9 binary (denormal bit, binary type 0, 1, 2 or 4)");
        }
    }

    private static long count(ByteCursor c, String what, long min, long max) {
        long n = c.u32(what);
        if (n < min || n > max) throw c.fail(what + " " + n + " is outside " + min + ".." + max);
        return n;
    }

    /** PoCL makes the hash a folder name of its cache: letters, digits and one '/' level, NUL-terminated. */
    private static void buildHash(ByteCursor c) {
        byte[] h = c.bytes(HASH_BYTES, "build hash");
        int nul = 0;
        while (nul < h.length && h[nul] != 0) nul++;
        if (nul == h.length) throw c.fail("the build hash is not NUL-terminated");
        String s = new String(h, 0, nul, StandardCharsets.ISO_8859_1);
        if (!s.matches("[A-Za-z0-9]+(/[A-Za-z0-9]+)?")) throw c.fail("build hash '" + s + "' is not a cache folder name");
    }

    private static void kernel(ByteCursor c, long index) {
        String what = "kernel " + index;
        ByteCursor head = c.slice(8, what + " record size");
        long recordSize = head.u64(what + " record size");
        if (recordSize < 8 || recordSize > (long) c.remaining() + 8) {
            throw c.fail(what + " record of " + Long.toUnsignedString(recordSize) + " bytes does not fit the " + (c.remaining() + 8) + " left");
        }
        ByteCursor k = c.slice(recordSize - 8, what + " record");
        long filesSize = k.u64(what + " files size");
        long argInfo = k.u32(what + " argument info size");
        String name = k.string(what + " name", 1, MAX_NAME);
        if (!name.matches("[A-Za-z_][A-Za-z0-9_]*")) throw k.fail(what + " name '" + name + "' is not an OpenCL kernel name");
        what = "kernel " + name;
        long args = count(k, what + " argument count", 0, MAX_ARGS);
        long locals = count(k, what + " local count", 0, MAX_LOCALS);
        k.skip(3 * 8, what + " required work-group size");
        k.skip(locals * 8, what + " local sizes");
        k.string(what + " attributes", 0, MAX_ATTRIBUTES);
        k.u64(what + " argument metadata flags");
        int argStart = k.position();
        for (long a = 0; a < args; a++) {
            k.u32(what + " argument access qualifier");
            k.u32(what + " argument address qualifier");
            k.u64(what + " argument type qualifier");
            k.u32(what + " argument type");
            k.u32(what + " argument type size");
            k.string(what + " argument name", 0, MAX_NAME);
            k.string(what + " argument type name", 0, MAX_NAME);
        }
        if (k.position() - argStart != argInfo) {
            throw k.fail(what + " arguments take " + (k.position() - argStart) + " bytes, the record says " + argInfo);
        }
        if (k.remaining() != filesSize) {
            throw k.fail(what + " files take " + k.remaining() + " bytes, the record says " + Long.toUnsignedString(filesSize));
        }
        files(k);
    }

    /** File records filling the cursor exactly. */
    private static void files(ByteCursor f) {
        while (f.remaining() > 0) {
            String path = f.string("file path", 1, MAX_PATH);
            if (!path.startsWith("/") || path.contains("//") || path.contains("\0") || path.endsWith("/")
                    || ("/" + path + "/").contains("/../") || ("/" + path + "/").contains("/./")) {
                throw f.fail("file path '" + path + "' would leave PoCL's cache folder or is not a plain path");
            }
            long size = f.u32("size of " + path);
            if (size == 0) throw f.fail(path + " is empty");
            byte[] content = f.bytes(size, path);
            if (path.endsWith(".bc") && !Formats.startsWith(content, BITCODE) && !Formats.startsWith(content, BITCODE_WRAPPER)) {
                throw f.fail(path + " is not LLVM bitcode (no BC magic)");
            }
            if (path.endsWith(".so") || path.endsWith(".o")) {
                try {
                    ElfLayout.check(content);
                } catch (LayoutException e) {
                    throw f.fail(path + ": " + e.getMessage());
                }
            }
        }
    }
}
