package dev.offload.bitstream.layout;

import java.nio.ByteOrder;

/**
 * The structure of an ELF file (Intel FPGA {@code .aocx}, AMD and Intel GPU binaries, the shared objects inside a PoCL
 * binary): identification, header, and that every program and section header table, segment and section (but
 * SHT_NOBITS) lies inside the file. Truncation cuts the section headers at the end, so it fails here.
 */
final class ElfLayout {
    private ElfLayout() {}

    static final byte[] MAGIC = {0x7F, 'E', 'L', 'F'};
    private static final long SHT_NULL = 0, SHT_NOBITS = 8;
    private static final int SHN_LORESERVE = 0xFF00;

    static boolean isElf(byte[] b) { return Formats.startsWith(b, MAGIC); }

    static void check(byte[] b) {
        if (!isElf(b)) throw new LayoutException("not an ELF file (no \\x7fELF magic)");
        if (b.length < 16) throw new LayoutException("ELF identification is truncated (" + b.length + " bytes)");
        boolean wide = switch (b[4]) {
            case 1 -> false;
            case 2 -> true;
            default -> throw new LayoutException("ELF class " + b[4] + " is neither 32-bit (1) nor 64-bit (2)");
        };
        ByteOrder order = switch (b[5]) {
            case 1 -> ByteOrder.LITTLE_ENDIAN;
            case 2 -> ByteOrder.BIG_ENDIAN;
            default -> throw new LayoutException("ELF data encoding " + b[5] + " is neither little (1) nor big endian (2)");
        };
        if (b[6] != 1) throw new LayoutException("ELF version " + b[6] + ", not 1");
        ByteCursor h = new ByteCursor(b, 16, b.length, order);
        h.u16("e_type");
        h.u16("e_machine");
        h.u32("e_version");
        h.word(wide, "e_entry");
        long phoff = h.word(wide, "e_phoff"), shoff = h.word(wide, "e_shoff");
        h.u32("e_flags");
        int ehsize = h.u16("e_ehsize"), phentsize = h.u16("e_phentsize"), phnum = h.u16("e_phnum");
        int shentsize = h.u16("e_shentsize"), shnum = h.u16("e_shnum"), shstrndx = h.u16("e_shstrndx");
        int minHeader = wide ? 64 : 52;
        if (ehsize < minHeader) throw new LayoutException("ELF header size " + ehsize + " is below " + minHeader);
        if (phnum == 0 && shnum == 0) {
            throw new LayoutException(shoff != 0 ? "ELF extended section numbering is not supported" : "ELF file has neither segments nor sections");
        }
        if (phnum > 0) {
            int min = wide ? 56 : 32;
            if (phentsize < min) throw new LayoutException("ELF program header size " + phentsize + " is below " + min);
            for (int i = 0; i < phnum; i++) {
                ByteCursor p = new ByteCursor(b, 0, b.length, order).at(phoff + (long) i * phentsize, phentsize, order, "ELF program header " + i);
                p.u32("p_type");
                if (wide) p.u32("p_flags");
                long offset = p.word(wide, "p_offset");
                p.word(wide, "p_vaddr");
                p.word(wide, "p_paddr");
                long size = p.word(wide, "p_filesz");
                p.at(offset, size, order, "ELF segment " + i);
            }
        }
        if (shnum > 0) {
            int min = wide ? 64 : 40;
            if (shentsize < min) throw new LayoutException("ELF section header size " + shentsize + " is below " + min);
            if (shstrndx != 0 && shstrndx < SHN_LORESERVE && shstrndx >= shnum) {
                throw new LayoutException("ELF section name table index " + shstrndx + " is not below the section count " + shnum);
            }
            for (int i = 0; i < shnum; i++) {
                ByteCursor s = new ByteCursor(b, 0, b.length, order).at(shoff + (long) i * shentsize, shentsize, order, "ELF section header " + i);
                s.u32("sh_name");
                long type = s.u32("sh_type");
                s.word(wide, "sh_flags");
                s.word(wide, "sh_addr");
                long offset = s.word(wide, "sh_offset"), size = s.word(wide, "sh_size");
                if (type != SHT_NULL && type != SHT_NOBITS) s.at(offset, size, order, "ELF section " + i);
            }
        }
    }
}
