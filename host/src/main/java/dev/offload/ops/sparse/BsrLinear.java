package dev.offload.ops.sparse;

import dev.offload.cl.Buffer;
import dev.offload.cl.DeviceInfo;
import dev.offload.cl.Kernel;
import dev.offload.device.KernelLauncher;
import dev.offload.device.KernelStyle;
import dev.offload.device.OpenClDevice;
import dev.offload.graph.SparseFormat;
import dev.offload.kernels.KernelFamily;
import dev.offload.ops.gemm.Activation;
import dev.offload.ops.gemm.GemmConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * The block-sparse INT8 linear layer on OpenCL ({@code bsr_linear.cl}): y = act((a - za) W * (sa * sw) + bias),
 * token-major, with the pruned weight W [K, N] stored as S = W^T [N, K] in BSR blocks of 16 or 32 output channels x 4
 * consecutive k, the shape of one or two vpdpbusd operands (see the kernel's header). Judges: {@link SparseLinearReference}
 * and the dense int8 linear (the same integer sums and the same float epilogue, bit for bit).
 *
 * <p>A pruned weight of any sparse format can be stored in these blocks exactly (every block holding a non-zero is
 * kept, {@link #layout}); a weight pruned in whole blocks of a multiple of 16 channels x a multiple of 4 k
 * ({@link Pruning#blocks}, e.g. {@code bsr:16x4}, {@code bsr:32x4}) stores no zeros beyond its own padding, and the
 * work is proportional to the blocks kept.
 */
public final class BsrLinear {
    /** k per block: the dot4 group one vpdpbusd lane sums. */
    public static final int BLOCK_K = 4;
    /** Output channels per block where the user names no shape (see {@link #DEFAULT_BLOCK}). */
    public static final int DEFAULT_BLOCK_ROWS = 32;
    /**
     * The block shape pruning defaults to ({@code compress --method block}, {@code run --prune bsr:S}): 32 channels x 4
     * k, two vpdpbusd operands per block, so each broadcast activation word feeds two of them. Measured against 16 x 4
     * at 90% on the MiniLM shapes (4096 tokens, PoCL 3.1 with VNNI, 2 cores of an AMD EPYC Zen 5 under load, fastest of
     * 40 alternating rounds): kernel 0.54 vs 0.64 ms (384 -> 384), 1.12 vs 1.38 ms (384 -> 1536), 1.21 vs 1.54 ms
     * (1536 -> 384). 16 x 4 stays available ({@code bsr:16x4}) and costs less accuracy at the same sparsity.
     */
    public static final SparseFormat DEFAULT_BLOCK = new SparseFormat(SparseFormat.Kind.BSR, DEFAULT_BLOCK_ROWS, BLOCK_K);
    /**
     * Token rows per work-item with VNNI, and on the portable and FPGA styles. (Measured with VNNI on PoCL 3.1, 2 cores
     * of a Xeon with AVX512-VNNI under other load, 4096 x 384 -> 1536: 8 rows beat 4 and matched 12 and 16.)
     */
    static final int MR_VNNI = 8, MR_PORTABLE = 4;

    private final OpenClDevice device;

    public BsrLinear(OpenClDevice device) { this.device = device; }

    /**
     * The kernel's block for a weight pruned in {@code format}: 32 x 4 when its blocks are whole multiples of 32
     * channels x 4 k, else 16 x 4 (a format whose blocks are not multiples of 16 x 4, e.g. csr or bsr:4x4, is then
     * stored with the zeros that complete its 16 x 4 blocks).
     */
    public static int blockRows(SparseFormat format) {
        boolean kAligned = format.kind() == SparseFormat.Kind.BSR && format.blockCols() % BLOCK_K == 0;
        return kAligned && format.blockRows() % 32 == 0 ? 32 : 16;
    }

    /**
     * W [K, N] (row-major int8, zeros where pruned) as S = W^T [N, K] in the kernel's blocks ({@link #blockRows}):
     * every block holding a non-zero, in column order within each block row (what the kernel's fast loop expects).
     */
    public static BsrMatrix layout(byte[] weight, int k, int n, SparseFormat format) {
        if ((long) k * n != weight.length) {
            throw new IllegalArgumentException("linear weight [K=" + k + ", N=" + n + "] needs " + (long) k * n + " values, got " + weight.length);
        }
        byte[] t = new byte[weight.length];
        for (int kk = 0; kk < k; kk++) for (int j = 0; j < n; j++) t[j * k + kk] = weight[kk * n + j];
        return BsrMatrix.fromDense(DenseMatrix.ofInt8(n, k, t), blockRows(format), BLOCK_K);
    }

    /**
     * Copies S (from {@link #layout}: int8, blocks of 16 or 32 x 4) and its channel sums to the device: buffers
     * block pointers, block columns, values, channel sums (padded with zeros to whole block rows).
     */
    public Spmm.DeviceMatrix upload(BsrMatrix s) {
        if (s.blockCols() != BLOCK_K || (s.blockRows() != 16 && s.blockRows() != 32) || s.dtype() != dev.offload.tensor.DType.INT8) {
            throw new IllegalArgumentException("bsr_linear takes int8 blocks of 16 or 32 channels x 4 k, got "
                    + s.formatName() + " " + s.dtype().numpyName());
        }
        List<Buffer> buffers = new ArrayList<>();
        try {
            buffers.add(device.upload(s.blockRowPtr()));
            buffers.add(device.upload(s.blockColIdx().length == 0 ? new int[1] : s.blockColIdx()));
            byte[] v = ((Values.Int8) s.values()).data();
            buffers.add(device.upload(v.length == 0 ? new byte[1] : v));
            buffers.add(device.upload(channelSums(s)));
            return new Spmm.DeviceMatrix(s, List.copyOf(buffers));
        } catch (RuntimeException e) {
            buffers.forEach(Buffer::close);
            throw e;
        }
    }

    /** sum_k S[n, k] for every channel n, then zeros up to a whole number of block rows. */
    static int[] channelSums(BsrMatrix s) {
        int[] sums = new int[BsrMatrix.ceilDiv(s.rows(), s.blockRows()) * s.blockRows()];
        SpmmReference.forEachStored(s, (m, k, j) -> sums[m] += ((Values.Int8) s.values()).data()[j]);
        return sums;
    }

    /** Token rows per work-item on this device: the VNNI kernel's or the portable one's, at most {@code tokens}. */
    static int rowBlock(boolean vnni, int tokens) { return Math.max(1, Math.min(vnni ? MR_VNNI : MR_PORTABLE, tokens)); }

    /** The build options of bsr_linear.cl (before the device's style define). */
    public static String buildOptions(int rowBlock, int blockRows, boolean vnni) {
        return "-D MR=" + rowBlock + " -D NV=" + blockRows / 16 + (vnni ? " -D X86_VNNI" : "")
                + " -cl-fp32-correctly-rounded-divide-sqrt";
    }

    /** Every option string this device's calls can ask for (row blocks 1..MR x both block shapes): what {@code bitstreams build} prebuilds. */
    public static List<String> allBuildOptions(DeviceInfo info, KernelStyle style) {
        boolean vnni = usesVnni(info, style);
        List<String> out = new ArrayList<>();
        for (int rows = 1; rows <= rowBlock(vnni, Integer.MAX_VALUE); rows++) {
            for (int blockRows : new int[] {16, 32}) out.add(buildOptions(rows, blockRows, vnni));
        }
        return out;
    }

    /** VNNI where the dense int8 GEMM uses it ({@link GemmConfig#forDevice}: PoCL on a CPU with AVX512-VNNI, portable style). */
    static boolean usesVnni(DeviceInfo info, KernelStyle style) {
        return GemmConfig.forDevice(info, style).innerLoop() == GemmConfig.InnerLoop.X86_VNNI;
    }

    /**
     * Enqueues y = act((a - za) W * (sa * sw[n]) + bias[n]) without waiting.
     *
     * @param w            from {@link #upload}
     * @param weightScales N floats; {@code bias} N floats or null
     * @param y            rows * N floats
     */
    public void enqueue(Spmm.DeviceMatrix w, Spmm.Activations a, Buffer weightScales, Buffer bias, Activation activation,
                        Buffer y, KernelLauncher launcher) {
        BsrMatrix s = (BsrMatrix) w.matrix();
        int n = s.rows(), k = s.cols(), t = a.rows();
        if (activation == Activation.GELU_ERF_ONNX) {
            throw new IllegalArgumentException("bsr_linear.cl has no " + activation + " epilogue (ONNX Runtime's GELU is for dense int8"
                    + " linears of imported models); use GELU_ERF for a sparse linear layer");
        }
        if (a.data().size() < (long) t * k) throw new IllegalArgumentException("activations of " + a.data().size() + " bytes, [" + t + ", " + k + "] needs " + (long) t * k);
        if (y.size() < 4L * t * n) throw new IllegalArgumentException("output of " + y.size() + " bytes, [" + t + ", " + n + "] floats needs " + 4L * t * n);
        if ((long) t * n == 0) return;
        boolean vnni = usesVnni(device.info(), device.kernelStyle());
        int mr = rowBlock(vnni, t);
        List<Buffer> bufs = w.buffers();
        try (Kernel kernel = device.program(KernelFamily.BSR_LINEAR, buildOptions(mr, s.blockRows(), vnni)).kernel("bsr_linear")) {
            kernel.setArgs(bufs, t, k, n, a.data(), a.unsigned() ? 0 : 0x80,
                    a.scales(), a.zeroPoints(), a.perRow() ? 1 : 0, a.unsigned() ? 0 : 128,
                    weightScales, bias != null ? bias : weightScales, bias != null ? 1 : 0, activation.ordinal(), y);
            long blockRowCount = BsrMatrix.ceilDiv(n, s.blockRows());
            // Work-groups along the block rows share their token rows (in L1); 16 keeps several groups per core.
            long local = Math.min(16, blockRowCount);
            while (blockRowCount % local != 0) local--;
            launcher.launch(kernel, new long[] {blockRowCount, (t + mr - 1) / mr}, new long[] {local, 1});
        }
    }
}
