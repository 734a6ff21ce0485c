package dev.offload.graph;

import java.util.Locale;

/** How a pruned weight is stored for sparse kernels: {@code csr}, {@code bsr:RxC} or {@code 2:4}. */
public record SparseFormat(Kind kind, int blockRows, int blockCols) {
    public enum Kind { CSR, BSR, TWO_FOUR }

    public static final SparseFormat CSR = new SparseFormat(Kind.CSR, 1, 1);
    public static final SparseFormat TWO_FOUR = new SparseFormat(Kind.TWO_FOUR, 1, 4);

    public static SparseFormat parse(String text) {
        String s = text.strip().toLowerCase(Locale.ROOT);
        if (s.equals("csr")) return CSR;
        if (s.equals("2:4")) return TWO_FOUR;
        if (s.matches("bsr:\\d+x\\d+")) {
            String[] rc = s.substring(4).split("x");
            int r = Integer.parseInt(rc[0]), c = Integer.parseInt(rc[1]);
            if (r > 0 && c > 0) return new SparseFormat(Kind.BSR, r, c);
        }
        throw new IllegalArgumentException("unknown sparse format '" + text + "': use csr, bsr:RxC (e.g. bsr:4x4) or 2:4");
    }

    @Override
    public String toString() {
        return switch (kind) {
            case CSR -> "csr";
            case BSR -> "bsr:" + blockRows + "x" + blockCols;
            case TWO_FOUR -> "2:4";
        };
    }
}
