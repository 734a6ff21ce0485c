package dev.offload.ops.attention;

import java.util.Arrays;

/**
 * Which keys each query sees, and an optional additive bias. The parts combine: a key is masked when
 * any part masks it.
 *
 * @param causal     bottom-right aligned causal mask, as with a KV cache: query i sees keys
 *                   j <= i + kvLength - queryLength
 * @param kvLengths  per-sequence key counts [batch], or null: keys j >= kvLengths[b] are masked
 * @param additive   a float bias added to the scaled scores, or null; -infinity masks a key
 * @param window     with {@code causal}, a sliding window of this many keys (0: none): a query sees only the last
 *                   {@code window} of the keys the causal and length parts leave it, its own position and the ones
 *                   before (llama.cpp's standard SWA: key position p0 is masked for query position p1 when
 *                   p1 - p0 >= window)
 *
 * A query row whose keys are all masked has an empty softmax; its output is defined as zeros.
 */
public record Mask(boolean causal, int[] kvLengths, Additive additive, int window) {

    public static final Mask NONE = new Mask(false, null, null);
    public static final Mask CAUSAL = new Mask(true, null, null);

    public Mask {
        if (window < 0 || (window > 0 && !causal)) throw new IllegalArgumentException("a sliding window needs a causal mask and >= 1 keys, got " + window);
    }

    public Mask(boolean causal, int[] kvLengths, Additive additive) { this(causal, kvLengths, additive, 0); }

    public Mask withCausal(boolean causal) { return new Mask(causal, kvLengths, additive, causal ? window : 0); }

    public Mask withKvLengths(int[] lengths) { return new Mask(causal, lengths, additive, window); }

    public Mask withAdditive(Additive bias) { return new Mask(causal, kvLengths, bias, window); }

    /** A causal mask with a sliding window of {@code keys} keys (0: the whole causal past). */
    public static Mask causal(int keys) { return new Mask(true, null, null, keys); }

    /**
     * The kernels' {@code causal} argument (attention.cl, key_begin / key_end): 0 without a causal mask, else the
     * window's length, {@link Integer#MAX_VALUE} for none.
     */
    public int causalArgument() { return !causal ? 0 : window > 0 ? window : Integer.MAX_VALUE; }

    public boolean isEmpty() { return !causal && kvLengths == null && additive == null; }

    /** How an additive mask's values broadcast over batch and heads. */
    public enum Layout {
        /** [Sq, Skv]: one mask for every batch and head. */
        QUERY_KEY,
        /** [B, 1, Sq, Skv]: one mask per batch entry, shared by its heads. */
        BATCH_QUERY_KEY,
        /** [B, H, Sq, Skv]: one mask per batch entry and head. */
        BATCH_HEAD_QUERY_KEY;

        /** The number of values the layout holds for a shape. */
        public long elements(AttentionShape s) {
            long plane = (long) s.queryLength() * s.kvLength();
            return switch (this) {
                case QUERY_KEY -> plane;
                case BATCH_QUERY_KEY -> s.batch() * plane;
                case BATCH_HEAD_QUERY_KEY -> (long) s.batch() * s.heads() * plane;
            };
        }

        /** Element offset between consecutive batch entries (0 when broadcast). */
        public long batchStride(AttentionShape s) {
            long plane = (long) s.queryLength() * s.kvLength();
            return switch (this) {
                case QUERY_KEY -> 0;
                case BATCH_QUERY_KEY -> plane;
                case BATCH_HEAD_QUERY_KEY -> s.heads() * plane;
            };
        }

        /** Element offset between consecutive heads (0 when broadcast). */
        public long headStride(AttentionShape s) {
            return this == BATCH_HEAD_QUERY_KEY ? (long) s.queryLength() * s.kvLength() : 0;
        }
    }

    /** An additive mask: values in C order for its layout. */
    public record Additive(float[] values, Layout layout) {
        public Additive {
            if (values == null || layout == null) throw new IllegalArgumentException("an additive mask needs values and a layout");
        }

        /** The bias for (b, h, i, j). */
        public float at(AttentionShape s, int b, int h, int i, int j) {
            return values[(int) (b * layout.batchStride(s) + h * layout.headStride(s) + (long) i * s.kvLength() + j)];
        }

        @Override
        public String toString() { return "Additive[" + layout + ", " + values.length + " values]"; }
    }

    /** Checks that the mask fits a shape; throws IllegalArgumentException saying what does not. */
    public void check(AttentionShape s) {
        if (kvLengths != null) {
            if (kvLengths.length != s.batch()) {
                throw new IllegalArgumentException("kv lengths have " + kvLengths.length + " entries, the batch is "
                        + s.batch() + " (one length per sequence)");
            }
            for (int b = 0; b < kvLengths.length; b++) {
                if (kvLengths[b] < 0 || kvLengths[b] > s.kvLength()) {
                    throw new IllegalArgumentException("kv length " + kvLengths[b] + " of sequence " + b
                            + " is outside 0.." + s.kvLength() + " (the key length)");
                }
            }
        }
        if (additive != null && additive.values().length != additive.layout().elements(s)) {
            throw new IllegalArgumentException("additive mask has " + additive.values().length + " values, layout "
                    + additive.layout() + " needs " + additive.layout().elements(s) + " for " + s);
        }
    }

    /** Whether query row i of batch b may see key j under the causal and length parts (not the additive one). */
    public boolean visible(AttentionShape s, int b, int i, int j) {
        if (kvLengths != null && j >= kvLengths[b]) return false;
        if (!causal) return true;
        int end = i + s.kvLength() - s.queryLength() + 1;   // one past the row's last key
        if (kvLengths != null) end = Math.min(end, kvLengths[b]);
        return j < end && (window == 0 || j >= end - window);
    }

    @Override
    public String toString() {
        if (isEmpty()) return "none";
        StringBuilder sb = new StringBuilder();
        if (causal) sb.append("causal").append(window > 0 ? " window " + window : "");
        if (kvLengths != null) sb.append(sb.isEmpty() ? "" : "+").append("lengths").append(Arrays.toString(kvLengths));
        if (additive != null) sb.append(sb.isEmpty() ? "" : "+").append("additive ").append(additive.layout());
        return sb.toString();
    }
}
