package dev.offload.runtime;

import dev.offload.graph.Attention;
import dev.offload.math.OnnxRuntimeCpu;
import java.util.stream.IntStream;

/** Attention in Java over token-major q [B, Sq, H*D], k/v [B, Skv, Hkv*D]; semantics in {@link Attention}. */
public final class AttentionReference {
    private AttentionReference() {}

    public static float[] run(Attention a, float[] q, float[] k, float[] v, int[] keyLengths, int batch, int sq, int skv) {
        if (a.onnxRuntime()) return runOnnx(a, q, k, v, keyLengths, batch, sq, skv);
        int h = a.heads(), hkv = a.kvHeads(), d = a.headDim(), group = h / hkv;
        int qStride = h * d, kvStride = hkv * d;
        float[] out = new float[batch * sq * qStride];
        IntStream.range(0, batch * h).parallel().forEach(bh -> {
            int b = bh / h, head = bh % h, kvHead = head / group;
            int len = keyLengths == null ? skv : Math.min(Math.max(keyLengths[b], 0), skv);
            double[] p = new double[skv];
            for (int i = 0; i < sq; i++) {
                int visible = a.causal() ? Math.min(len, i + (skv - sq) + 1) : len;
                int qo = (b * sq + i) * qStride + head * d;
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < visible; j++) {
                    int ko = (b * skv + j) * kvStride + kvHead * d;
                    double s = 0;
                    for (int c = 0; c < d; c++) s += q[qo + c] * k[ko + c];
                    p[j] = s * a.scale();
                    max = Math.max(max, p[j]);
                }
                double sum = 0;
                for (int j = 0; j < visible; j++) { p[j] = Math.exp(p[j] - max); sum += p[j]; }
                for (int c = 0; c < d; c++) {
                    double acc = 0;
                    for (int j = 0; j < visible; j++) acc += p[j] * v[(b * skv + j) * kvStride + kvHead * d + c];
                    // No visible key (length 0): zeros, rather than the NaN of 0/0.
                    out[qo + c] = visible == 0 ? 0 : (float) (acc / sum);
                }
            }
        });
        return out;
    }

    /**
     * {@link Attention#onnxRuntime}: per (b, head, query row) over the first keyLengths[b] keys, scores
     * (q·k) / divisor as fma chains, ONNX Runtime's softmax, then the weighted sum of values as fma chains over the keys
     * in order ({@link OnnxRuntimeCpu}). A row without keys is zeros.
     */
    static float[] runOnnx(Attention a, float[] q, float[] k, float[] v, int[] keyLengths, int batch, int sq, int skv) {
        int h = a.heads(), group = h / a.kvHeads(), d = a.headDim();
        int qStride = h * d, kvStride = a.kvHeads() * d;
        float[] out = new float[batch * sq * qStride];
        IntStream.range(0, batch * h).parallel().forEach(bh -> {
            int b = bh / h, head = bh % h, kvHead = head / group;
            int len = keyLengths == null ? skv : Math.min(Math.max(keyLengths[b], 0), skv);
            float[] p = new float[len];
            for (int i = 0; i < sq && len > 0; i++) {
                int qo = (b * sq + i) * qStride + head * d, kv = b * skv * kvStride + kvHead * d;
                for (int j = 0; j < len; j++) p[j] = OnnxRuntimeCpu.dot(q, qo, 1, k, kv + j * kvStride, 1, d) / a.onnxDivisor();
                OnnxRuntimeCpu.softmax(p, 0, len);
                for (int c = 0; c < d; c++) out[qo + c] = OnnxRuntimeCpu.dot(p, 0, 1, v, kv + c, kvStride, len);
            }
        });
        return out;
    }
}
