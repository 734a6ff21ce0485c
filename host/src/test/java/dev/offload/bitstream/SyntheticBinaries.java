package dev.offload.bitstream;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Well-formed vendor binaries small enough to write by hand, for tests on a machine without the vendor tools: an
 * xclbin container (XRT's axlf: the header at byte 304 with the file length, the section table at 456) holding one
 * EMBEDDED_METADATA section, and a 64-bit ELF file with one data section.
 */
final class SyntheticBinaries {
    private SyntheticBinaries() {}

    private static final int AXLF_HEADER = 304, AXLF_SECTIONS = 456, SECTION_HEADER = 40, EMBEDDED_METADATA = 2;

    /** An xclbin whose single section is {@code metadata} (the EMBEDDED_METADATA XML), padded with noise around it. */
    static byte[] xclbin(byte[] metadata) {
        int sectionAt = AXLF_SECTIONS + SECTION_HEADER + 64;
        int length = sectionAt + metadata.length + 32;
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        b.put("xclbin2\0".getBytes(StandardCharsets.US_ASCII));
        b.putInt(8, -1);                                     // no signature
        for (int i = 40; i < AXLF_HEADER - 8; i++) b.put(i, (byte) (i * 37)); // key block: noise
        b.putLong(AXLF_HEADER, length);                      // m_length
        b.putInt(448, 1);                                    // m_numSections
        b.putInt(AXLF_SECTIONS, EMBEDDED_METADATA);
        b.put(AXLF_SECTIONS + 4, "metadata".getBytes(StandardCharsets.US_ASCII));
        b.putLong(AXLF_SECTIONS + 24, sectionAt);
        b.putLong(AXLF_SECTIONS + 32, metadata.length);
        b.put(sectionAt, metadata);
        for (int i = sectionAt + metadata.length; i < length; i++) b.put(i, (byte) (i * 91));
        return b.array();
    }

    /** A 64-bit little-endian ELF relocatable: header, one PROGBITS section of {@code data}, then the section table. */
    static byte[] elf64(byte[] data) {
        int dataAt = 64, tableAt = dataAt + data.length, sections = 2, length = tableAt + sections * 64;
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {0x7F, 'E', 'L', 'F', 2, 1, 1});
        b.putShort(16, (short) 1);                           // ET_REL
        b.putShort(18, (short) 62);                          // EM_X86_64
        b.putInt(20, 1);
        b.putLong(40, tableAt);                              // e_shoff
        b.putShort(52, (short) 64);                          // e_ehsize
        b.putShort(58, (short) 64);                          // e_shentsize
        b.putShort(60, (short) sections);                    // e_shnum
        b.put(dataAt, data);
        int s1 = tableAt + 64;                               // section 0 is SHT_NULL (all zeros)
        b.putInt(s1 + 4, 1);                                 // SHT_PROGBITS
        b.putLong(s1 + 24, dataAt);
        b.putLong(s1 + 32, data.length);
        return b.array();
    }
}
