/**
 * Sparse x dense matrix multiply, {@code Y[M,N] = S[M,K] x B[K,N]}, S being pruned weights.
 *
 * <ul>
 *   <li>Formats: {@link dev.offload.ops.sparse.CsrMatrix}, {@link dev.offload.ops.sparse.BsrMatrix} (any R x C
 *       block, padded), {@link dev.offload.ops.sparse.Sparse24Matrix} (2:4), all a
 *       {@link dev.offload.ops.sparse.SparseMatrix}; made from a {@link dev.offload.ops.sparse.DenseMatrix} exactly
 *       ({@code fromDense}) or after {@link dev.offload.ops.sparse.Pruning} (per-row magnitude, or 2:4).</li>
 *   <li>Types: int8 x int8 -> int32 (wrapping), with an optional dequantize epilogue
 *       {@code y = acc * sRow[m] * sB + bias[m]}: S per output channel (row m), B per tensor, bias per row;
 *       float32 x float32 -> float32.</li>
 *   <li>{@link dev.offload.ops.sparse.SpmmReference} (plain Java) judges {@link dev.offload.ops.sparse.Spmm}
 *       (OpenCL, {@code spmm.cl}); {@link dev.offload.ops.sparse.SpmmTolerance} bounds float32 differences;
 *       {@link dev.offload.ops.sparse.SpmmValidator} is the {@code validate --ops spmm} sweep;
 *       {@link dev.offload.ops.sparse.SciPyNpz} reads {@code scipy.sparse.save_npz} files for {@code offload spmm}.</li>
 * </ul>
 */
package dev.offload.ops.sparse;
