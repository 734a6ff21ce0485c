package dev.offload.compress;

import dev.offload.model.TokenBatch;
import dev.offload.model.tokenizer.WordPieceTokenizer;
import java.util.ArrayList;
import java.util.List;

/**
 * Calibration sentences, tokenized and batched for the Java reference, for the methods whose importance is measured
 * on activations ({@link HeadImportance#ACTIVATION}).
 *
 * @param batches the sentences, {@value #BATCH} a batch, right-padded
 * @param sentences how many sentences the batches hold
 */
public record Calibration(List<TokenBatch> batches, int sentences) {
    /** Sentences per batch: the reference runs a batch's sentences in parallel; padding is computed but ignored. */
    static final int BATCH = 16;
    /** Tokens per sentence at most ([CLS] and [SEP] included); the built-in sentences are far shorter. */
    static final int MAX_TOKENS = 128;

    public Calibration {
        batches = List.copyOf(batches);
    }

    public static Calibration of(WordPieceTokenizer tokenizer, List<String> texts) {
        if (texts.isEmpty()) throw new IllegalArgumentException("no calibration sentences");
        List<TokenBatch> batches = new ArrayList<>();
        for (int from = 0; from < texts.size(); from += BATCH) {
            List<TokenBatch.Sequence> seqs = new ArrayList<>();
            for (String t : texts.subList(from, Math.min(texts.size(), from + BATCH))) seqs.add(tokenizer.encode(t, MAX_TOKENS));
            batches.add(TokenBatch.pad(seqs, tokenizer.padId()));
        }
        return new Calibration(batches, texts.size());
    }

    /** {@link SentenceSet#calibration}, tokenized. */
    public static Calibration builtIn(WordPieceTokenizer tokenizer) { return of(tokenizer, SentenceSet.calibration()); }
}
