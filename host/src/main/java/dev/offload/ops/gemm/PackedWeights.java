package dev.offload.ops.gemm;

import dev.offload.cl.Buffer;
import dev.offload.ops.quant.QuantType;

/**
 * A B matrix packed once for the INT8 GEMM and kept on the device: B transposed to [nPadded][stride]
 * in the signed domain (uint8 values flipped by 0x80), zero-padded along K and N, with its column sums
 * (over all of K, and over the first K &amp; ~63 elements for the VNNI loop) and effective per-column zero points. Made by {@link Int8Gemm#pack}; close it to free device memory.
 *
 * @param needsRowSums whether some effective B zero point is nonzero, so A's row sums are needed
 */
public record PackedWeights(Buffer transposed, Buffer zeroPoints, Buffer columnSums, Buffer columnSumsHead,
                            QuantType type, int k, int n, int nPadded, int stride, boolean needsRowSums,
                            GemmConfig config) implements AutoCloseable {
    @Override
    public void close() {
        transposed.close();
        zeroPoints.close();
        columnSums.close();
        columnSumsHead.close();
    }
}
