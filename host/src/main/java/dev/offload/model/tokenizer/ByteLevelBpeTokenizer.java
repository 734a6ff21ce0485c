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
 * Byte-level BPE ({@code tokenizer.ggml.model = gpt2}: Llama 3, Qwen2, SmolLM, GPT-2), as llama.cpp does it: text
 * between special tokens is split into words by the pre-tokenizer, each word's UTF-8 bytes are mapped to GPT-2's
 * byte characters, and the adjacent pair with the lowest rank in {@code tokenizer.ggml.merges} is merged until no
 * ranked pair is left.
 */
public final class ByteLevelBpeTokenizer extends VocabularyTokenizer implements TextTokenizer {
    static final String MERGES = "tokenizer.ggml.merges";
    private final BpePreTokenizer pre;
    /** "left right" to rank. */
    private final Map<String, Integer> ranks;

    ByteLevelBpeTokenizer(GgufMetadata md) {
        BpePreTokenizer p = BpePreTokenizer.of(md);
        super(new GgufVocabulary(md, false, p == BpePreTokenizer.LLAMA3));
        pre = p;
        if (!md.contains(MERGES)) throw md.problem("required metadata key '" + MERGES + "' is missing");
        String[] merges = md.stringArray(MERGES);
        ranks = HashMap.newHashMap(merges.length);
        for (int i = 0; i < merges.length; i++) {
            // The separator is the first space after the first character (a token may itself be a space).
            int sep = merges[i].indexOf(' ', 1);
            if (sep < 0) throw md.problem(MERGES + "[" + i + "] '" + merges[i] + "' is not two tokens separated by a space");
            ranks.putIfAbsent(merges[i], i);
        }
    }

    @Override
    public int[] encode(String text, boolean addBos, boolean parseSpecial) {
        List<Integer> out = new ArrayList<>();
        if (addBos && vocab.addBos) out.add(vocab.bos);
        for (GgufVocabulary.Fragment f : vocab.split(text, parseSpecial)) {
            if (f.isToken()) {
                out.add(f.token());
                continue;
            }
            for (String word : pre.split(f.text())) {
                String mapped = Gpt2ByteMapping.encode(word.getBytes(StandardCharsets.UTF_8));
                int whole = pre.ignoreMerges ? vocab.id(mapped) : -1;
                if (whole >= 0) out.add(whole);
                else merge(mapped, out);
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    private record Bigram(int left, int right, int rank, String joined) implements Comparable<Bigram> {
        public int compareTo(Bigram o) {
            int c = Integer.compare(rank, o.rank); // lowest rank first
            return c != 0 ? c : Integer.compare(left, o.left); // then leftmost
        }
    }

    /** Merges one mapped word (one char per byte) by rank and appends its tokens. */
    private void merge(String word, List<Integer> out) {
        int n = word.length();
        if (n == 0) return;
        String[] sym = new String[n];
        int[] prev = new int[n], next = new int[n];
        for (int i = 0; i < n; i++) {
            sym[i] = String.valueOf(word.charAt(i));
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        PriorityQueue<Bigram> queue = new PriorityQueue<>();
        for (int i = 1; i < n; i++) addBigram(queue, sym, i - 1, i);
        while (!queue.isEmpty()) {
            Bigram b = queue.poll();
            if (sym[b.left] == null || sym[b.right] == null || !(sym[b.left] + sym[b.right]).equals(b.joined)) continue;
            sym[b.left] = b.joined;
            sym[b.right] = null;
            next[b.left] = next[b.right];
            if (next[b.right] >= 0) prev[next[b.right]] = b.left;
            if (prev[b.left] >= 0) addBigram(queue, sym, prev[b.left], b.left);
            if (next[b.left] >= 0) addBigram(queue, sym, b.left, next[b.left]);
        }
        for (int i = 0; i != -1; i = next[i]) {
            int id = vocab.id(sym[i]);
            if (id >= 0) {
                out.add(id);
                continue;
            }
            // A merge result missing from the vocabulary: its characters one by one (llama.cpp drops unknown ones).
            for (int c = 0; c < sym[i].length(); c++) {
                int single = vocab.id(String.valueOf(sym[i].charAt(c)));
                if (single >= 0) out.add(single);
            }
        }
    }

    private void addBigram(PriorityQueue<Bigram> queue, String[] sym, int left, int right) {
        Integer rank = ranks.get(sym[left] + " " + sym[right]);
        if (rank != null) queue.add(new Bigram(left, right, rank, sym[left] + sym[right]));
    }

    /** Both kinds are GPT-2 byte-mapped text. */
    @Override
    byte[] storedBytes(TokenType type, String token) { return unmap(token); }

    /** The bytes a token of GPT-2 byte characters stands for; a character outside the mapping as its UTF-8. */
    private static byte[] unmap(String token) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(token.length());
        token.codePoints().forEach(cp -> {
            int b = Gpt2ByteMapping.byteOf(cp);
            if (b >= 0) out.write(b);
            else out.writeBytes(Character.toString(cp).getBytes(StandardCharsets.UTF_8));
        });
        return out.toByteArray();
    }
}
