package dev.offload.model.tokenizer;

import dev.offload.model.gguf.GgufMetadata;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * SentencePiece-style tokenization ({@code tokenizer.ggml.model = llama}: Llama 2, TinyLlama, Mistral v1), as
 * llama.cpp does it: text after the start or a special token gets a leading space (when
 * {@code tokenizer.ggml.add_space_prefix}, default true), spaces become U+2581, then the text is split into
 * characters and the adjacent pair whose joined string is a token with the highest score is merged, again and
 * again. What no token covers falls back to byte tokens {@code <0xNN>}.
 */
public final class SentencePieceTokenizer extends VocabularyTokenizer implements TextTokenizer {
    static final char SPACE_MARK = '\u2581';
    private final boolean addSpacePrefix;
    private final int[] byteTokens = new int[256];

    SentencePieceTokenizer(GgufMetadata md) {
        super(new GgufVocabulary(md, true, true));
        addSpacePrefix = md.optBool("tokenizer.ggml.add_space_prefix").orElse(true);
        for (int b = 0; b < 256; b++) {
            int id = vocab.id(String.format("<0x%02X>", b));
            byteTokens[b] = id >= 0 ? id : b < 128 ? vocab.id(String.valueOf((char) b)) : -1;
        }
    }

    @Override
    public int[] encode(String text, boolean addBos, boolean parseSpecial) {
        List<Integer> out = new ArrayList<>();
        if (addBos && vocab.addBos) out.add(vocab.bos);
        boolean afterSpecial = true;
        for (GgufVocabulary.Fragment f : vocab.split(text, parseSpecial)) {
            if (f.isToken()) {
                out.add(f.token());
                afterSpecial = true;
                continue;
            }
            String s = (addSpacePrefix && afterSpecial ? " " : "") + f.text();
            new Merge(s.replace(' ', SPACE_MARK)).run(out);
            afterSpecial = false;
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /** One run of score-driven merging over one text fragment. */
    private final class Merge {
        private final String text;
        // Symbols: [start, length) in text, linked as a list; length 0 once merged into the left neighbour.
        private final int[] start, length, prev, next;
        private final Map<String, int[]> mergedFrom = new HashMap<>();
        private final PriorityQueue<Bigram> queue = new PriorityQueue<>();

        private record Bigram(int left, int right, float score, int length) implements Comparable<Bigram> {
            public int compareTo(Bigram o) {
                int c = Float.compare(o.score, score); // highest score first
                return c != 0 ? c : Integer.compare(left, o.left); // then leftmost
            }
        }

        Merge(String text) {
            this.text = text;
            int n = text.codePointCount(0, text.length());
            start = new int[n];
            length = new int[n];
            prev = new int[n];
            next = new int[n];
            for (int i = 0, at = 0; i < n; i++) {
                start[i] = at;
                length[i] = Character.charCount(text.codePointAt(at));
                at += length[i];
                prev[i] = i - 1;
                next[i] = i + 1 < n ? i + 1 : -1;
            }
        }

        void run(List<Integer> out) {
            if (start.length == 0) return;
            for (int i = 1; i < start.length; i++) tryBigram(i - 1, i);
            while (!queue.isEmpty()) {
                Bigram b = queue.poll();
                if (length[b.left] == 0 || length[b.right] == 0 || length[b.left] + length[b.right] != b.length) continue;
                length[b.left] += length[b.right];
                length[b.right] = 0;
                next[b.left] = next[b.right];
                if (next[b.right] >= 0) prev[next[b.right]] = b.left;
                tryBigram(prev[b.left], b.left);
                tryBigram(b.left, next[b.left]);
            }
            for (int i = 0; i != -1; i = next[i]) emit(i, out);
        }

        private String textOf(int symbol) { return text.substring(start[symbol], start[symbol] + length[symbol]); }

        private void tryBigram(int left, int right) {
            if (left < 0 || right < 0) return;
            String joined = text.substring(start[left], start[right] + length[right]);
            int id = vocab.id(joined);
            if (id < 0) return;
            queue.add(new Bigram(left, right, vocab.scores[id], joined.length()));
            mergedFrom.put(joined, new int[] {left, right});
        }

        /** A symbol as its token, or split back along the merges that made it, or as byte tokens. */
        private void emit(int symbol, List<Integer> out) {
            String s = textOf(symbol);
            int id = vocab.id(s);
            if (id >= 0) {
                out.add(id);
                return;
            }
            int[] parts = mergedFrom.get(s);
            if (parts != null) {
                emit(parts[0], out);
                emit(parts[1], out);
                return;
            }
            for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
                int t = byteTokens[b & 0xFF];
                out.add(t >= 0 ? t : vocab.unk);
            }
        }
    }

    /** Normal pieces with U+2581 as the space; byte tokens <0xNN> as their byte. */
    @Override
    byte[] storedBytes(TokenType type, String t) {
        if (type == TokenType.NORMAL) return t.replace(SPACE_MARK, ' ').getBytes(StandardCharsets.UTF_8);
        return t.matches("<0x[0-9A-Fa-f]{2}>") ? new byte[] {(byte) Integer.parseInt(t.substring(3, 5), 16)} : t.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * As the interface says, and the inverse of the space prefix: the one space {@link #encode} put in front of
     * the text at the start and after each special token is taken away again.
     */
    @Override
    public String decode(int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        boolean afterSpecial = true;
        for (int id : ids) {
            byte[] piece = pieceBytes(id, true);
            boolean special = vocab.types[id].isSpecial();
            int skip = addSpacePrefix && afterSpecial && !special && piece.length > 0 && piece[0] == ' ' ? 1 : 0;
            out.write(piece, skip, piece.length - skip);
            if (special || piece.length > 0) afterSpecial = special;
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
