package dev.offload.model;

import dev.offload.graph.SparseFormat;
import dev.offload.ops.sparse.DenseMatrix;
import dev.offload.ops.sparse.Pruning;
import java.util.HashMap;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * The pruned copy of an int8 linear weight, made once per (weight array, pruning) and returned to every graph built
 * from the model: the graphs of different shapes then reference one array, so the runtime keeps one device copy of
 * it (runtime.ResidentWeights shares by host-array identity), and pruning runs once.
 */
final class PrunedWeights {
    /** Keyed by the model's weight array (arrays compare by identity); dropped when the model is. */
    private static final Map<byte[], Map<EncoderGraph.Prune, byte[]>> made = new WeakHashMap<>();

    private PrunedWeights() {}

    /** {@code weight} [K, N] pruned per output channel (the rows of W^T [N, K]), in the same [K, N] layout. */
    static synchronized byte[] of(byte[] weight, int k, int n, EncoderGraph.Prune prune) {
        return made.computeIfAbsent(weight, w -> new HashMap<>()).computeIfAbsent(prune, p -> prune(weight, k, n, p));
    }

    private static byte[] prune(byte[] weight, int k, int n, EncoderGraph.Prune prune) {
        byte[] t = new byte[k * n];
        for (int kk = 0; kk < k; kk++) for (int j = 0; j < n; j++) t[j * k + kk] = weight[kk * n + j];
        DenseMatrix wt = DenseMatrix.ofInt8(n, k, t);
        SparseFormat f = prune.format();
        DenseMatrix pruned = switch (f.kind()) {
            case TWO_FOUR -> Pruning.twoFour(wt);
            case BSR -> Pruning.blocks(wt, f.blockRows(), f.blockCols(), prune.sparsity(), Pruning.BlockNorm.L2);
            case CSR -> Pruning.magnitude(wt, prune.sparsity());
        };
        byte[] pt = ((dev.offload.ops.sparse.Values.Int8) pruned.values()).data();
        byte[] w = new byte[k * n];
        for (int kk = 0; kk < k; kk++) for (int j = 0; j < n; j++) w[kk * n + j] = pt[j * k + kk];
        return w;
    }
}
