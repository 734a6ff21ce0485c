/**
 * Sparse x dense matrix multiply, {@code Y[M,N] = S[M,K] x B[K,N]}, S being pruned weights.
 *
 * <ul>
 *   <li>Formats: {@link dev.offload.ops.sparse.CsrMatrix}, {@link dev.offload.ops.sparse.BsrMatrix} (any R x C
 *       block, padded), {@link dev.offload.ops.sparse.Sparse24Matrix} (2:4), all a
 *       {@link dev.offload.ops.sparse.SparseMatrix}; made from a {@link dev.offload.ops.sparse.DenseMatrix} exactly
 *       ({@code fromDense}) or after {@link dev.offload.ops.sparse.Pruning} (per-row magnitude, 2:4, or whole blocks by
 *       their L1/L2 norm per block row).</li>
 *   <li>Types: int8 x int8 -> int32 (wrapping), with an optional dequantize epilogue
 *       {@code y = acc * sRow[m] * sB + bias[m]}: S per output channel (row m), B per tensor, bias per row;
 *       float32 x float32 -> float32.</li>
 *   <li>{@link dev.offload.ops.sparse.SpmmReference} (plain Java) judges {@link dev.offload.ops.sparse.Spmm}
 *       (OpenCL, {@code spmm.cl}); {@link dev.offload.ops.sparse.SpmmTolerance} bounds float32 differences;
 *       {@link dev.offload.ops.sparse.SpmmValidator} is the {@code validate --ops spmm} sweep;
 *       {@link dev.offload.ops.sparse.SciPyNpz} reads {@code scipy.sparse.save_npz} files for {@code offload spmm}.</li>
 *   <li>The graph's sparse linear layer (y = act((a - za) W * (sa * sw) + bias), token-major):
 *       {@link dev.offload.ops.sparse.SparseLinearOpenCl} runs CSR and 2:4 weights through spmm.cl's sparse_linear
 *       kernels and BSR weights through {@link dev.offload.ops.sparse.BsrLinear} (bsr_linear.cl: VNNI vpdpbusd on
 *       blocks of 16 or 32 output channels x 4 k, each block reused by 8 tokens), the one that beats the dense int8
 *       GEMM; {@link dev.offload.ops.sparse.SparseLinearJava} and {@link dev.offload.ops.sparse.SparseLinearReference}
 *       judge them, {@link dev.offload.ops.sparse.SparseLinearChecks} is their part of the validator.</li>
 * </ul>
 */
package dev.offload.ops.sparse;
