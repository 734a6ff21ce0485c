package dev.offload.ops.gemm;

import dev.offload.cl.DeviceInfo;
import dev.offload.cl.DeviceType;
import dev.offload.device.KernelStyle;
import dev.offload.kernels.KernelFamily;
import dev.offload.tuning.TunedEntry;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The build-time shape of the direct INT8 GEMM kernels (int8_gemm.cl: no local memory, A and B read straight from
 * global memory, the CPU- and FPGA-shaped family): each work-item computes an {@code mr x nr} block of C, reading
 * A rows and packed B^T rows with 16-wide char vectors along K (or VNNI/AMX panels).
 *
 * @param mr            rows of C per work-item
 * @param nr            columns of C per work-item (packed B is padded to a multiple of it)
 * @param innerLoop     how the inner loop multiplies and adds
 * @param localColumns  work-group size along N (0: the implementation chooses)
 */
public record DirectGemmConfig(int mr, int nr, InnerLoop innerLoop, int localColumns) implements GemmConfig {
    /** K is processed in vectors of this many bytes; packed rows are padded to a multiple of it. */
    public static final int K_VECTOR = 16;

    public DirectGemmConfig {
        if (innerLoop == null) throw new IllegalArgumentException("innerLoop is required");
        if (innerLoop == InnerLoop.X86_AMX) {
            if ((mr != 16 && mr != 32) || nr < 32 || nr > 256 || nr % 32 != 0) {
                throw new IllegalArgumentException("AMX block " + mr + "x" + nr + " must be 16 or 32 rows x 32, 64, ... 256 columns");
            }
        } else if (innerLoop == InnerLoop.X86_VNNI) {
            if (mr < 1 || mr > 8 || nr < 16 || nr > 64 || nr % 16 != 0) {
                throw new IllegalArgumentException("VNNI register block " + mr + "x" + nr
                        + " must be 1..8 rows x 16, 32, 48 or 64 columns");
            }
        } else if (mr < 1 || mr > 8 || nr < 1 || nr > 8) {
            throw new IllegalArgumentException("register block " + mr + "x" + nr + " is outside 1..8 x 1..8");
        }
        if (localColumns < 0) throw new IllegalArgumentException("localColumns must be >= 0, got " + localColumns);
    }

    /**
     * The defaults for a device. PoCL on a CPU with AVX512-VNNI: vpdpbusd on a 4x32 block (8 int32 vectors,
     * no horizontal sums, vector epilogue; measured on PoCL 3.1, Zen 5, 2 cores: about 700 GOPS at 1024^3,
     * 650 at 4096x384x1536, where 6x32, 8x32, 4x48, 4x64 and 8x16 blocks reached 300-530). Other CPUs: a 4x4 block keeps 16 int16 accumulators plus 8 operand
     * vectors in the 32 AVX-512 registers, and work-groups of 64 blocks along N share their 4 A rows in L1
     * (measured on PoCL 3.1, Zen 5: 4x4/64 and 2x8/16 were best, about 2x faster than the driver's choice
     * of work-group; 4x8, 6x4 and 8x4 spill or thrash). GPUs and accelerators: a smaller 2x4 block (more work-items,
     * fewer registers each). The dot-product built-ins are used wherever the device reports them.
     */
    public static DirectGemmConfig forDevice(DeviceInfo info) {
        return forDevice(info, KernelStyle.forDevice(info));
    }

    /**
     * The defaults for a device whose kernels are built in {@code style}. FPGA style: no x86 paths (the kernel's
     * preprocessor turns vpmaddwd off, and VNNI's panel layout is not chosen) and no work-group size (each
     * work-item is its own work-group and computes one register block of C).
     */
    public static DirectGemmConfig forDevice(DeviceInfo info, KernelStyle style) {
        boolean dot = info.dotProduct() != null && info.dotProduct().input4x8Bit();
        boolean fpga = style == KernelStyle.FPGA;
        boolean poclCpu = !fpga && info.type() == DeviceType.CPU && isPocl(info);
        InnerLoop loop = dot ? InnerLoop.DOT_PRODUCT
                : poclCpu && HostCpu.hasAmxInt8() ? InnerLoop.X86_AMX
                : poclCpu && HostCpu.hasAvx512Vnni() ? InnerLoop.X86_VNNI
                : InnerLoop.AUTO;
        if (fpga) return new DirectGemmConfig(info.type() == DeviceType.CPU ? 4 : 2, 4, loop, 0);
        if (loop == InnerLoop.X86_AMX) return new DirectGemmConfig(32, 64, loop, 1);
        if (loop == InnerLoop.X86_VNNI) return new DirectGemmConfig(4, 32, loop, 16);
        if (info.type() == DeviceType.CPU) return new DirectGemmConfig(4, 4, loop, 64);
        return new DirectGemmConfig(2, 4, loop, 64);
    }

    /** Whether the device can run this configuration: VNNI and AMX need PoCL on a host CPU (and process) that has them. */
    @Override
    public boolean runsOn(DeviceInfo info) {
        return switch (innerLoop) {
            case X86_VNNI -> info.type() == DeviceType.CPU && isPocl(info) && HostCpu.hasAvx512Vnni();
            case X86_AMX -> info.type() == DeviceType.CPU && isPocl(info) && HostCpu.hasAmxInt8();
            default -> true;
        };
    }

    /** The parameters as stored in the tuning database (no "family" key: entries from before the tiled family read as direct). */
    @Override
    public Map<String, Object> toParams() {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("mr", mr);
        p.put("nr", nr);
        p.put("innerLoop", innerLoop.name());
        p.put("localColumns", localColumns);
        return p;
    }

    /** The configuration a tuning entry holds; an entry with unknown or out-of-range values is refused. */
    public static DirectGemmConfig fromParams(TunedEntry e) {
        InnerLoop innerLoop = InnerLoop.fromParams(e);
        return new DirectGemmConfig(e.intParam("mr"), e.intParam("nr"), innerLoop, e.intParam("localColumns"));
    }

    /** Short form for tables: {@code 4x32 X86_VNNI wg16}. */
    @Override
    public String brief() {
        return mr + "x" + nr + " " + innerLoop.name() + " wg" + (localColumns == 0 ? "auto" : localColumns);
    }

    /** PoCL compiles kernels with clang for the very CPU it runs on, so the host CPU's features apply. */
    static boolean isPocl(DeviceInfo info) {
        return info.deviceVersion().contains("PoCL") || info.driverVersion().toLowerCase(java.util.Locale.ROOT).contains("pocl");
    }

    @Override
    public KernelFamily family() { return KernelFamily.INT8_GEMM; }

    /** Build options for int8_gemm.cl with the full register block. */
    @Override
    public String defines() { return blockDefines(mr); }

    /** A smaller row block for products with fewer than {@code mr} rows (decode, M=1). */
    @Override
    public String defines(int rows) { return blockDefines(rowBlock(rows)); }

    @Override
    public java.util.List<String> allDefines() {
        java.util.Set<String> out = new java.util.LinkedHashSet<>(); // AMX has two row blocks for rows 1..mr
        for (int rows = 1; rows <= mr; rows++) out.add(defines(rows));
        return java.util.List.copyOf(out);
    }

    private String blockDefines(int rowBlock) {
        return "-D MR=" + rowBlock + " -D NR=" + nr + innerLoop.define();
    }

    /**
     * The row block a product with {@code rows} rows of A runs with: {@code mr}, or fewer when A has fewer rows
     * (AMX: 16, one row tile, where A has at most 16 rows; its tiles leave the rows past M out themselves).
     */
    public int rowBlock(int rows) {
        if (innerLoop == InnerLoop.X86_AMX) return rows <= 16 ? 16 : mr;
        return Math.min(mr, rows);
    }

    /** B is packed in 16-column panels of 4-byte groups along K (VNNI, AMX), else transposed ([N][stride]). */
    @Override
    public boolean panels() { return innerLoop == InnerLoop.X86_VNNI || innerLoop == InnerLoop.X86_AMX; }

    /** The kernel in int8_gemm.cl this configuration runs. */
    @Override
    public String kernelName() {
        return switch (innerLoop) {
            case X86_AMX -> "int8_gemm_amx";
            case X86_VNNI -> "int8_gemm_panels";
            default -> "int8_gemm";
        };
    }

    /**
     * The row stride of packed B^T (or the panel stride for VNNI) for a given K: a multiple of the K vector, nudged off multiples of 256
     * bytes because power-of-two strides map the NR rows a work-item reads onto the same cache sets.
     */
    @Override
    public int packedStride(int k) {
        if (innerLoop == InnerLoop.X86_VNNI) return (k + 3) / 4 * 64; // one 16-column panel: [K/4][16][4]
        if (innerLoop == InnerLoop.X86_AMX) return (k + 63) / 64 * 1024; // the same, K padded to whole 16 x 64-byte tiles
        int stride = (k + K_VECTOR - 1) / K_VECTOR * K_VECTOR;
        if (stride % 256 == 0) stride += 64;
        return stride;
    }

    /** Packed B's columns are padded to a multiple of the register block's. */
    @Override
    public int columnMultiple() { return nr; }

    /** One line for logs and the CLI. */
    @Override
    public String describe() {
        return (innerLoop == InnerLoop.X86_AMX ? "tile block " : "register block ") + mr + "x" + nr
                + (panels() ? " (B in 16-column panels, K in groups of 4)" : ", K vector " + K_VECTOR + " x int8") + ", "
                + innerLoop.description()
                + ", work-group " + (localColumns == 0 ? "chosen by the driver" : localColumns + " x 1");
    }
}
