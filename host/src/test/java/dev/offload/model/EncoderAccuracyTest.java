package dev.offload.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.model.onnx.EncoderImporter;
import dev.offload.model.tokenizer.WordPieceTokenizer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The Java reference against ONNX Runtime (no graph optimizations) on real models, on the same token ids.
 * ONNX Runtime runs each sentence alone (batch 1, no padding): that is the result a sentence should get.
 * The reference runs the sentences as one padded batch.
 */
class EncoderAccuracyTest {
    static final List<String> SENTENCES = List.of(
            "The cat sits on the mat.",
            "A cat is sitting on a rug!",
            "Quantized transformers run fast on FPGAs, GPUs and CPUs.",
            "Café prices rose 3.5% in Zürich — again?",
            "Hello, world!",
            "How do I bake sourdough bread at home without a dutch oven or any special equipment?",
            "A man is playing a guitar on stage.",
            "Someone performs music with a guitar in front of an audience.",
            "The stock market fell sharply this morning.",
            "Share prices dropped steeply at the opening bell.",
            "My cat sleeps on the windowsill all afternoon.",
            "Quantum computers use qubits instead of bits.");

    record Scores(double minTokenCosine, double minSentenceCosine, double meanSentenceCosine, int exactSentences) {}

    static Scores compare(ModelCatalog m, EncoderModel model, ActivationQuantization mode, OrtEncoder ort) throws Exception {
        WordPieceTokenizer tok = WordPieceTokenizer.fromJson(m.tokenizerBytes(), m.tokenizerEntry);
        List<TokenBatch.Sequence> seqs = new ArrayList<>();
        for (String s : SENTENCES) seqs.add(tok.encode(s, 32));
        TokenBatch batch = TokenBatch.pad(seqs, tok.padId());
        int h = model.config().hidden();
        float[] ours = EncoderReference.forward(model, batch, mode);
        float[] oursPooled = EncoderReference.pool(ours, batch, h, m.pooling);
        double minTok = 1, minSent = 1, sumSent = 0;
        int exact = 0;
        for (int b = 0; b < batch.batch(); b++) {
            TokenBatch one = batch.row(b);
            float[] want = ort.lastHiddenState(one);
            for (int t = 0; t < one.length(); t++) {
                minTok = Math.min(minTok, cosine(want, t * h, ours, (b * batch.length() + t) * h, h));
            }
            float[] wantPooled = EncoderReference.pool(want, one, h, m.pooling);
            double sc = cosine(wantPooled, 0, oursPooled, b * h, h);
            minSent = Math.min(minSent, sc);
            sumSent += sc;
            if (sc >= 0.99999) exact++;
        }
        Scores s = new Scores(minTok, minSent, sumSent / batch.batch(), exact);
        System.out.printf("%s %s: per-token cosine min %.7f; sentence cosine min %.8f, mean %.8f; %d of %d sentences >= 0.99999%n",
                model.name(), mode, minTok, minSent, s.meanSentenceCosine(), exact, batch.batch());
        return s;
    }

    static double cosine(float[] a, int ai, float[] b, int bi, int n) {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < n; i++) { dot += a[ai + i] * b[bi + i]; na += a[ai + i] * a[ai + i]; nb += b[bi + i] * b[bi + i]; }
        return dot / Math.sqrt(na * nb);
    }

    /**
     * Most sentences match ONNX Runtime to float precision (sentence cosine >= 0.99999, per-token 0.9999998).
     * The rest differ by a cascade from one uint8 rounding flip: attention outputs agree to 1e-7 (ONNX Runtime's
     * MLAS sums and exp differ from Java's in the last bit), a value sitting at x.5 quanta rounds the other way,
     * changes a linear output by one quantum times a weight, and later layers amplify it (traced layer by layer:
     * all-MiniLM-L6-v2-q on "Share prices dropped steeply at the opening bell." diverges first in layer 1's
     * attention output projection). ONNX Runtime itself shows the same sensitivity: its optimized graph
     * (ORT_ENABLE_ALL) differs from its unoptimized one by per-token 0.9959 on a bge sentence. So the bounds are:
     * at least 3 of 4 sentences within 0.99999, none below 0.995, mean >= 0.9995, every token >= 0.99.
     */
    static void checkQuantizedModel(ModelCatalog m) throws Exception {
        byte[] onnx = m.onnxBytes();
        EncoderModel model = EncoderImporter.importBytes(onnx, m.onnxEntry);
        try (OrtEncoder ort = new OrtEncoder(onnx)) {
            Scores s = compare(m, model, ActivationQuantization.PER_SENTENCE, ort);
            // For the record (see ActivationQuantization): the alternatives, against the same judge.
            compare(m, model, ActivationQuantization.PER_TOKEN, ort);
            compare(m, model, ActivationQuantization.PER_BATCH, ort);
            assertTrue(s.exactSentences() * 4 >= SENTENCES.size() * 3, m.id + ": only " + s.exactSentences() + " sentences within 0.99999");
            assertTrue(s.minSentenceCosine() >= 0.995, m.id + " sentence cosine " + s.minSentenceCosine());
            assertTrue(s.meanSentenceCosine() >= 0.9995, m.id + " mean sentence cosine " + s.meanSentenceCosine());
            assertTrue(s.minTokenCosine() >= 0.99, m.id + " per-token cosine " + s.minTokenCosine());
        }
    }

    @Test
    void allMiniLmQuantizedMatchesOnnxRuntimePerTokenAndPerSentence() throws Exception {
        checkQuantizedModel(ModelCatalog.ALL_MINILM_L6_V2_Q);
    }

    @Test
    void bgeSmallQuantizedMatchesOnnxRuntimePerTokenAndPerSentence() throws Exception {
        checkQuantizedModel(ModelCatalog.BGE_SMALL_EN_V15_Q);
    }

    @Test
    void floatMiniLmMatchesOnnxRuntimeAndInt8AtLoadStaysClose() throws Exception {
        ModelCatalog m = ModelCatalog.ALL_MINILM_L6_V2;
        byte[] onnx = m.onnxBytes();
        EncoderModel model = EncoderImporter.importBytes(onnx, m.onnxEntry);
        try (OrtEncoder ort = new OrtEncoder(onnx)) {
            Scores f = compare(m, model, ActivationQuantization.PER_SENTENCE, ort);
            assertTrue(f.minTokenCosine() >= 0.99999, "float per-token cosine " + f.minTokenCosine());
            assertTrue(f.minSentenceCosine() >= 0.999999, "float sentence cosine " + f.minSentenceCosine());
            Scores q = compare(m, model.quantizeInt8(), ActivationQuantization.PER_SENTENCE, ort);
            // Per-channel symmetric int8 weights + dynamic uint8 activations, measured 0.988 against float ORT.
            assertTrue(q.minSentenceCosine() >= 0.98, "int8-at-load sentence cosine vs float ORT " + q.minSentenceCosine());
        }
    }

    @Test
    void aSentenceGetsTheSameHiddenStatesAloneAndInAPaddedBatch() {
        ModelCatalog m = ModelCatalog.ALL_MINILM_L6_V2_Q;
        EncoderModel model = EncoderImporter.importBytes(m.onnxBytes(), m.onnxEntry);
        WordPieceTokenizer tok = WordPieceTokenizer.fromJson(m.tokenizerBytes(), m.tokenizerEntry);
        TokenBatch batch = TokenBatch.pad(List.of(tok.encode("Hi.", 32), tok.encode(SENTENCES.get(5), 32)), tok.padId());
        int h = model.config().hidden();
        float[] both = EncoderReference.forward(model, batch, ActivationQuantization.PER_SENTENCE);
        float[] alone = EncoderReference.forward(model, batch.row(0), ActivationQuantization.PER_SENTENCE);
        float[] firstRows = java.util.Arrays.copyOf(both, alone.length);
        assertArrayEquals(alone, firstRows, "the short sentence's states must not depend on its padded neighbour");
    }
}
