package dev.offload.bitstream.layout;

import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The container of a Xilinx {@code .xclbin} (XRT's {@code struct axlf}, magic {@code xclbin2}): the header's total
 * length must be the file's, and the section table and every section must lie inside it. Offsets, fixed by XRT's
 * static asserts: the 152-byte {@code axlf_header} starts at byte 304 (after the magic, signature length, reserved
 * bytes, the 256-byte key block and the unique id); its last field, the section count, is at 448; the 40-byte
 * section headers start at 456.
 */
final class XclbinLayout {
    private XclbinLayout() {}

    static final byte[] MAGIC = "xclbin2\0".getBytes(StandardCharsets.US_ASCII);
    private static final int HEADER = 304, SECTION_COUNT = 448, SECTIONS = 456, SECTION_HEADER = 40;
    /** XRT's XCLBIN_MAX_NUM_SECTION. */
    private static final long MAX_SECTIONS = 0x10000;

    static boolean isXclbin(byte[] b) { return Formats.startsWith(b, MAGIC); }

    static void check(byte[] b) {
        if (!isXclbin(b)) throw new LayoutException("not an xclbin (no xclbin2 magic)");
        ByteCursor whole = ByteCursor.littleEndian(b);
        long length = whole.at(HEADER, 8, ByteOrder.LITTLE_ENDIAN, "axlf header").u64("m_length");
        if (length != b.length) {
            throw new LayoutException("the xclbin header says the file is " + Long.toUnsignedString(length) + " bytes, it has "
                    + b.length + " (truncated or padded)");
        }
        long sections = whole.at(SECTION_COUNT, 4, ByteOrder.LITTLE_ENDIAN, "axlf header").u32("m_numSections");
        if (sections < 1 || sections > MAX_SECTIONS) {
            throw new LayoutException("xclbin section count " + sections + " is outside 1.." + MAX_SECTIONS);
        }
        for (int i = 0; i < sections; i++) {
            ByteCursor s = whole.at(SECTIONS + (long) i * SECTION_HEADER, SECTION_HEADER, ByteOrder.LITTLE_ENDIAN, "xclbin section header " + i);
            s.u32("m_sectionKind");
            s.skip(16 + 4, "m_sectionName and padding");
            long offset = s.u64("m_sectionOffset"), size = s.u64("m_sectionSize");
            whole.at(offset, size, ByteOrder.LITTLE_ENDIAN, "xclbin section " + i);
        }
    }
}
