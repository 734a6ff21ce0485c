package dev.offload.bitstream.layout;

/** Magic-number tests shared by the layouts. */
final class Formats {
    private Formats() {}

    static boolean startsWith(byte[] b, byte[] magic) {
        if (b.length < magic.length) return false;
        for (int i = 0; i < magic.length; i++) if (b[i] != magic[i]) return false;
        return true;
    }
}
