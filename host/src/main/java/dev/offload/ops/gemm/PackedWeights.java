package dev.offload.ops.gemm;

import dev.offload.cl.Buffer;
import dev.offload.ops.quant.QuantType;

/**
 * A B matrix packed once for the INT8 GEMM and kept on the device: B transposed to [nPadded][stride] (both families;
 * the tiled one pads nPadded to its NWG and the stride to its KWG)
 * in the signed domain (uint8 values flipped by 0x80), zero-padded along K and N, with its column sums
 * and effective per-column zero points. With {@link GemmConfig#panels()} the layout is 16-column panels
 * [nPadded/16][ceil(K/4)][16][4] instead (for vpdpbusd). Made by {@link Int8Gemm#pack}; close it to free device memory.
 *
 * @param needsRowSums whether some effective B zero point is nonzero, so A's row sums are needed
 */
public record PackedWeights(Buffer packed, Buffer zeroPoints, Buffer columnSums,
                            QuantType type, int k, int n, int nPadded, int stride, boolean needsRowSums,
                            GemmConfig config) implements AutoCloseable {
    @Override
    public void close() {
        packed.close();
        zeroPoints.close();
        columnSums.close();
    }
}
