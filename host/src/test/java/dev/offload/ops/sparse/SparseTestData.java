package dev.offload.ops.sparse;

import dev.offload.tensor.DType;
import java.util.Random;

/** Seeded random inputs over the full value range, never zero (zeros come only from pruning). */
final class SparseTestData {
    private SparseTestData() {}

    static byte[] int8(Random rnd, int count) {
        byte[] b = new byte[count];
        for (int i = 0; i < count; i++) {
            int v;
            do { v = rnd.nextInt(256) - 128; } while (v == 0);
            b[i] = (byte) v;
        }
        return b;
    }

    /** Uniform in [-1, 1] scaled by a random power of two per value, so magnitudes span several octaves. */
    static float[] float32(Random rnd, int count) {
        float[] f = new float[count];
        for (int i = 0; i < count; i++) {
            float v;
            do { v = (rnd.nextFloat() * 2 - 1) * (float) Math.scalb(1.0, rnd.nextInt(9) - 4); } while (v == 0);
            f[i] = v;
        }
        return f;
    }

    static DenseMatrix dense(Random rnd, DType type, int rows, int cols) {
        return type == DType.INT8 ? DenseMatrix.ofInt8(rows, cols, int8(rnd, rows * cols))
                : DenseMatrix.ofFloat32(rows, cols, float32(rnd, rows * cols));
    }

    /** The format a spec names (csr, bsr:RxC, 2:4) from a dense matrix: pruned to the sparsity (2:4 prunes to 2:4). */
    static SparseMatrix sparse(DenseMatrix dense, String format, double sparsity) {
        if (format.equals("2:4")) return Sparse24Matrix.fromDense(Pruning.twoFour(dense));
        DenseMatrix pruned = Pruning.magnitude(dense, sparsity);
        if (format.equals("csr")) return CsrMatrix.fromDense(pruned);
        String[] rc = format.substring("bsr:".length()).split("x");
        return BsrMatrix.fromDense(pruned, Integer.parseInt(rc[0]), Integer.parseInt(rc[1]));
    }
}
