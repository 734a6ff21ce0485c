package dev.offload.graph;

import dev.offload.tensor.DType;
import java.util.List;

/**
 * Rotary position embedding (RoPE) of queries or keys: x [B, S, heads * headDim] and the tokens' positions int32
 * [B, S] → x with each head's pairs turned by the angle of its position, pair i at pos * base^(-2i / headDim).
 *
 * <p>The angles' cosines and sines are tables [positions][headDim / 2] made once on the host in double and rounded
 * to float ({@link #of}), so that devices without fp64 compute exactly what the reference does: the rotation is then
 * two float products and a sum per element, rounded the same way everywhere (the kernel turns fp contraction off).
 * Q and K of every layer share one pair of tables (one device copy). A position outside the tables gives NaN.
 *
 * @param style which elements of a head form the rotated pairs
 */
public record RotaryEmbedding(int heads, int headDim, Style style, float[] cos, float[] sin) implements Op {
    /** The GGUF/ggml rotary layouts: adjacent pairs (x[2i], x[2i+1]) for llama, halves (x[i], x[i + d/2]) for NeoX/Qwen2. */
    public enum Style { ADJACENT_PAIRS, HALVES }

    public RotaryEmbedding {
        Op.require(heads > 0 && headDim > 0 && headDim % 2 == 0, "rope needs heads > 0 and an even head dimension, got " + heads + " x " + headDim);
        Op.require(cos.length == sin.length && cos.length % (headDim / 2) == 0 && cos.length > 0,
                "rope tables must both be [positions][" + headDim / 2 + "], got " + cos.length + " and " + sin.length + " values");
    }

    /** Tables for positions 0..positions-1 with frequency base {@code base} (the model's rope.freq_base). */
    public static RotaryEmbedding of(int heads, int headDim, Style style, float base, int positions) {
        return of(heads, headDim, style, base, positions, 1f);
    }

    /**
     * Tables for positions 0..positions-1, each position multiplied by {@code positionScale} first (linear RoPE scaling:
     * 1 / the model's rope.scaling.factor).
     */
    public static RotaryEmbedding of(int heads, int headDim, Style style, float base, int positions, float positionScale) {
        Op.require(base > 1 && Float.isFinite(base), "the rotary base must be > 1, got " + base);
        Op.require(positionScale > 0 && positionScale <= 1, "the rotary position scale must be in (0, 1], got " + positionScale);
        Op.require(positions > 0 && (long) positions * (headDim / 2) <= Integer.MAX_VALUE, "rope positions out of range: " + positions);
        int half = headDim / 2;
        float[] cos = new float[positions * half], sin = new float[positions * half];
        double[] frequency = new double[half];
        for (int i = 0; i < half; i++) frequency[i] = Math.pow(base, -2.0 * i / headDim);
        for (int p = 0; p < positions; p++) {
            for (int i = 0; i < half; i++) {
                double angle = p * (double) positionScale * frequency[i];
                cos[p * half + i] = (float) Math.cos(angle);
                sin[p * half + i] = (float) Math.sin(angle);
            }
        }
        return new RotaryEmbedding(heads, headDim, style, cos, sin);
    }

    /** The same tables for another head count (keys have the kv heads). */
    public RotaryEmbedding withHeads(int h) { return new RotaryEmbedding(h, headDim, style, cos, sin); }

    /** Positions the tables cover. */
    public int positions() { return cos.length / (headDim / 2); }

    @Override public OpKind kind() { return OpKind.ROPE; }

    @Override
    public List<TensorType> outputTypes(List<TensorType> in) {
        Op.arity(in, 2, 2, "rope");
        TensorType x = in.get(0), pos = in.get(1);
        Op.require(x.dtype() == DType.FLOAT32 && x.rank() == 3 && x.last() == heads * headDim,
                "rope x must be float32 [B, S, " + heads * headDim + "], got " + x);
        Op.require(pos.dtype() == DType.INT32 && pos.shape().equals(List.of(x.dim(0), x.dim(1))),
                "rope positions must be int32 [" + x.dim(0) + ", " + x.dim(1) + "], got " + pos);
        return List.of(x);
    }

    @Override
    public Cost cost(List<TensorType> in, List<TensorType> out) {
        // Per pair: two table reads, four products and two sums.
        TensorType x = in.getFirst();
        long pairs = x.elements() / 2;
        return new Cost(6 * pairs, x.bytes() + in.get(1).bytes() + 8 * pairs, out.getFirst().bytes());
    }

    @Override public long weightBytes() { return 8L * cos.length; }

    @Override public String describe() { return "rope " + heads + "x" + headDim + " " + style.name().toLowerCase(java.util.Locale.ROOT); }
}
