package dev.offload.graph;

import dev.offload.tensor.DType;
import java.util.List;

/**
 * Table lookup: input int32 ids [B, S], output float32 [B, S, dim]. The table is float32 [vocab, dim], or int8
 * [vocab, dim] with one float scale per row (value = q * scale). With {@link Index#POSITION} the row is the
 * token's position {@code positionOffset + s} and the input only gives the shape (BERT/GPT position embeddings).
 * Ids outside [0, vocab) are rejected by the runtime before a run (kernels do not bounds-check).
 */
public record Embedding(int vocab, int dim, float[] table, byte[] int8Table, float[] rowScales, Index index,
                        int positionOffset) implements Op {
    public enum Index { TOKEN, POSITION }

    public Embedding {
        Op.require((table == null) != (int8Table == null), "embedding needs exactly one of a float or an int8 table");
        long n = (long) vocab * dim;
        Op.require(table == null || table.length == n, "float embedding table must have vocab*dim = " + n + " values");
        Op.require(int8Table == null || (int8Table.length == n && rowScales != null && rowScales.length == vocab),
                "int8 embedding table must have vocab*dim values and vocab row scales");
    }

    public static Embedding ofFloat(float[] table, int vocab, int dim, Index index) {
        return new Embedding(vocab, dim, table, null, null, index, 0);
    }

    public static Embedding ofInt8(byte[] table, float[] rowScales, int vocab, int dim, Index index) {
        return new Embedding(vocab, dim, null, table, rowScales, index, 0);
    }

    public boolean quantized() { return int8Table != null; }

    @Override public OpKind kind() { return OpKind.EMBEDDING; }

    @Override
    public List<TensorType> outputTypes(List<TensorType> in) {
        Op.arity(in, 1, 1, "embedding");
        TensorType ids = in.getFirst();
        Op.require(ids.dtype() == DType.INT32 && ids.rank() == 2, "embedding takes int32 ids [B, S], got " + ids);
        Op.require(index == Index.TOKEN || positionOffset + ids.dim(1) <= vocab,
                "position embedding has " + vocab + " positions, sequence needs " + (positionOffset + ids.dim(1)));
        return List.of(TensorType.of(DType.FLOAT32, ids.dim(0), ids.dim(1), dim));
    }

    @Override
    public Cost cost(List<TensorType> in, List<TensorType> out) {
        long rows = in.getFirst().elements();
        long rowBytes = quantized() ? dim + 4L : 4L * dim;
        return new Cost(quantized() ? rows * dim : 0, in.getFirst().bytes() + rows * rowBytes, out.getFirst().bytes());
    }

    @Override public long weightBytes() { return quantized() ? int8Table.length + 4L * vocab : 4L * table.length; }

    @Override public String describe() { return "embedding " + index.name().toLowerCase(java.util.Locale.ROOT) + " " + vocab + "x" + dim + (quantized() ? " int8" : ""); }
}
