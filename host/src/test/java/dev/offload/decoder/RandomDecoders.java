package dev.offload.decoder;

import dev.offload.graph.RotaryEmbedding;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Small decoders with seeded random weights, for tests. */
final class RandomDecoders {
    private RandomDecoders() {}

    static DecoderConfig config(RotaryEmbedding.Style style, boolean bias) {
        return new DecoderConfig(bias ? DecoderConfig.Architecture.QWEN2 : DecoderConfig.Architecture.LLAMA,
                2, 48, 6, 2, 8, 80, 97, 64, 10000f, style, 1e-5f, bias);
    }

    static DecoderWeights weights(DecoderConfig c, long seed) {
        Random r = new Random(seed);
        List<DecoderWeights.Layer> layers = new ArrayList<>();
        int h = c.hidden();
        for (int i = 0; i < c.layers(); i++) {
            DecoderWeights.Layer l = new DecoderWeights.Layer(norm(r, h), matrix(r, h, c.queryDim()), c.qkvBias() ? vector(r, c.queryDim()) : null,
                    matrix(r, h, c.kvDim()), c.qkvBias() ? vector(r, c.kvDim()) : null, matrix(r, h, c.kvDim()),
                    c.qkvBias() ? vector(r, c.kvDim()) : null, matrix(r, c.queryDim(), h), norm(r, h),
                    matrix(r, h, c.ffn()), matrix(r, h, c.ffn()), matrix(r, c.ffn(), h));
            if (c.qkNorm()) {   // drawn last, so the other architectures' seeded weights stay what they were
                l = new DecoderWeights.Layer(l.attentionNorm(), l.wq(), l.bq(), l.wk(), l.bk(), l.wv(), l.bv(), l.wo(), l.ffnNorm(),
                        l.wGate(), l.wUp(), l.wDown(), norm(r, c.headDim()), norm(r, c.headDim()));
            }
            if (c.postNorms()) {   // Gemma 3, drawn after the rest
                l = new DecoderWeights.Layer(l.attentionNorm(), l.wq(), l.bq(), l.wk(), l.bk(), l.wv(), l.bv(), l.wo(), l.ffnNorm(),
                        l.wGate(), l.wUp(), l.wDown(), l.qNorm(), l.kNorm(), norm(r, c.hidden()), norm(r, c.hidden()));
            }
            layers.add(l);
        }
        float[] embedding = matrix(r, c.vocab(), h), norm = norm(r, h), output = matrix(r, h, c.vocab());
        // Gemma's output is the embedding (its files hold no output.weight).
        if (c.outputTied()) output = GgufDecoder.transpose(embedding, c.vocab(), h);
        return new DecoderWeights(embedding, layers, norm, output);
    }

    /** Weights of scale 1/sqrt(in): activations keep their size through the layers. */
    static float[] matrix(Random r, int in, int out) {
        float[] m = new float[in * out];
        double s = 1 / Math.sqrt(in);
        for (int i = 0; i < m.length; i++) m[i] = (float) (r.nextGaussian() * s);
        return m;
    }

    static float[] vector(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextGaussian() * 0.1);
        return v;
    }

    static float[] norm(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (1 + r.nextGaussian() * 0.1);
        return v;
    }

    static int[] tokens(Random r, int n, int vocab) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = r.nextInt(vocab);
        return t;
    }
}
