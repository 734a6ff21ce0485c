package dev.offload.ops.gemm;

import dev.offload.cl.DeviceInfo;
import dev.offload.cl.DeviceType;
import dev.offload.device.KernelStyle;
import dev.offload.tuning.TunedEntry;
import dev.offload.tuning.TuningStore;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.slf4j.LoggerFactory;

/**
 * The build-time shape of the INT8 GEMM kernel on one device: each work-item computes an
 * {@code mr x nr} block of C, reading A rows and packed B^T rows with 16-wide char vectors along K.
 *
 * @param mr            rows of C per work-item
 * @param nr            columns of C per work-item (packed B is padded to a multiple of it)
 * @param innerLoop     how the inner loop multiplies and adds
 * @param localColumns  work-group size along N (0: the implementation chooses)
 */
public record GemmConfig(int mr, int nr, InnerLoop innerLoop, int localColumns) {
    /** The inner loop's arithmetic (build defines of int8_gemm.cl). */
    public enum InnerLoop {
        /**
         * Clang's vpmaddwd intrinsic where the OpenCL compiler targets AVX512BW (PoCL on x86: LLVM 15 does not
         * form it from portable code), the portable loop elsewhere. Decided in the kernel by the preprocessor.
         */
        AUTO("", "vpmaddwd on AVX512BW targets, else portable multiply-add"),
        /**
         * vpdpbusd (AVX512-VNNI) through a function compiled for that target: for PoCL on a CPU that reports
         * avx512_vnni (PoCL 3.1's LLVM 15 targets skylake-avx512 and would not use it on its own).
         */
        X86_VNNI(" -D X86_VNNI", "AVX512-VNNI vpdpbusd"),
        /**
         * Intel AMX tiles (tdpbusd / tdpbssd, 16x16 int32 C tiles) through a function compiled for that target: for
         * PoCL on a CPU that reports amx_tile and amx_int8, once Linux granted the tile state (docs/amx.md). B in
         * VNNI's panels with K padded to 64.
         */
        X86_AMX(" -D X86_AMX", "AMX tdpbusd/tdpbssd tiles"),
        /** Portable OpenCL C: widen to int16 vectors, multiply, add. */
        PORTABLE(" -D PORTABLE_ONLY", "portable multiply-add"),
        /** cl_khr_integer_dot_product's dot(char4, char4) (emulated on devices without the extension). */
        DOT_PRODUCT(" -D USE_INTEGER_DOT_PRODUCT", "cl_khr_integer_dot_product dot(char4, char4)");

        private final String define;
        private final String description;

        InnerLoop(String define, String description) {
            this.define = define;
            this.description = description;
        }
    }

    /** K is processed in vectors of this many bytes; packed rows are padded to a multiple of it. */
    public static final int K_VECTOR = 16;

    public GemmConfig {
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
    public static GemmConfig forDevice(DeviceInfo info) {
        return forDevice(info, KernelStyle.forDevice(info));
    }

    /**
     * The defaults for a device whose kernels are built in {@code style}. FPGA style: no x86 paths (the kernel's
     * preprocessor turns vpmaddwd off, and VNNI's panel layout is not chosen) and no work-group size (each
     * work-item is its own work-group and computes one register block of C).
     */
    public static GemmConfig forDevice(DeviceInfo info, KernelStyle style) {
        boolean dot = info.dotProduct() != null && info.dotProduct().input4x8Bit();
        boolean fpga = style == KernelStyle.FPGA;
        boolean poclCpu = !fpga && info.type() == DeviceType.CPU && isPocl(info);
        InnerLoop loop = dot ? InnerLoop.DOT_PRODUCT
                : poclCpu && HostCpu.hasAmxInt8() ? InnerLoop.X86_AMX
                : poclCpu && HostCpu.hasAvx512Vnni() ? InnerLoop.X86_VNNI
                : InnerLoop.AUTO;
        if (fpga) return new GemmConfig(info.type() == DeviceType.CPU ? 4 : 2, 4, loop, 0);
        if (loop == InnerLoop.X86_AMX) return new GemmConfig(32, 64, loop, 1);
        if (loop == InnerLoop.X86_VNNI) return new GemmConfig(4, 32, loop, 16);
        if (info.type() == DeviceType.CPU) return new GemmConfig(4, 4, loop, 64);
        return new GemmConfig(2, 4, loop, 64);
    }

    /** The op's name in the tuning database and in {@code tune --ops}. */
    public static final String OP = "int8_gemm";

    /**
     * A configuration and where it came from.
     *
     * @param origin the file or resource of a tuned/db entry, or "GemmConfig.forDevice"
     */
    public record Choice(GemmConfig config, TuningStore.Source source, String origin) {
        /** One line for the CLI: the configuration and its source. */
        public String describe() { return config.describe() + " [" + source.label() + ": " + origin + "]"; }
    }

    /** The configuration for a device from the standard tuning store (user cache, then repository), else the defaults. */
    public static Choice resolve(DeviceInfo info) { return resolve(info, TuningStore.standard()); }

    /**
     * The tuned entry for this device name and driver version when there is one the device can run (an entry
     * asking for VNNI on a host without it, e.g. a copied cache, is skipped with a warning), else {@link #forDevice}.
     */
    public static Choice resolve(DeviceInfo info, TuningStore store) {
        Optional<TuningStore.Found> found = store.find(OP, info.name(), info.driverVersion());
        if (found.isPresent()) {
            TuningStore.Found f = found.get();
            try {
                GemmConfig c = fromParams(f.entry());
                if (c.runsOn(info)) {
                    String origin = f.source() == TuningStore.Source.TUNED ? String.valueOf(store.userCache())
                            : "classpath:" + TuningStore.REPOSITORY_RESOURCE;
                    return new Choice(c, f.source(), origin);
                }
                LoggerFactory.getLogger(GemmConfig.class).warn("tuned int8 GEMM entry for {} ({}) asks for {}, which this host cannot run; using the defaults",
                        info.name(), f.source().label(), c.describe());
            } catch (IllegalArgumentException e) {
                LoggerFactory.getLogger(GemmConfig.class).warn("ignoring tuned int8 GEMM entry for {} ({}): {}",
                        info.name(), f.source().label(), e.getMessage());
            }
        }
        return new Choice(forDevice(info), TuningStore.Source.DEFAULT, "GemmConfig.forDevice");
    }

    /** Whether the device can run this configuration: VNNI and AMX need PoCL on a host CPU (and process) that has them. */
    public boolean runsOn(DeviceInfo info) {
        return switch (innerLoop) {
            case X86_VNNI -> info.type() == DeviceType.CPU && isPocl(info) && HostCpu.hasAvx512Vnni();
            case X86_AMX -> info.type() == DeviceType.CPU && isPocl(info) && HostCpu.hasAmxInt8();
            default -> true;
        };
    }

    /** The parameters as stored in the tuning database. */
    public Map<String, Object> toParams() {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("mr", mr);
        p.put("nr", nr);
        p.put("innerLoop", innerLoop.name());
        p.put("localColumns", localColumns);
        return p;
    }

    /** The configuration a tuning entry holds; an entry with unknown or out-of-range values is refused. */
    public static GemmConfig fromParams(TunedEntry e) {
        String loop = e.stringParam("innerLoop");
        InnerLoop innerLoop;
        try {
            innerLoop = InnerLoop.valueOf(loop);
        } catch (IllegalArgumentException x) {
            throw new IllegalArgumentException("innerLoop " + loop + " is not one of " + java.util.Arrays.toString(InnerLoop.values()));
        }
        return new GemmConfig(e.intParam("mr"), e.intParam("nr"), innerLoop, e.intParam("localColumns"));
    }

    /** Short form for tables: {@code 4x32 X86_VNNI wg16}. */
    public String brief() {
        return mr + "x" + nr + " " + innerLoop.name() + " wg" + (localColumns == 0 ? "auto" : localColumns);
    }

    /** PoCL compiles kernels with clang for the very CPU it runs on, so the host CPU's features apply. */
    static boolean isPocl(DeviceInfo info) {
        return info.deviceVersion().contains("PoCL") || info.driverVersion().toLowerCase(java.util.Locale.ROOT).contains("pocl");
    }

    /** Build options for int8_gemm.cl. */
    public String defines() { return defines(mr); }

    /** Build options with a smaller row block, for products with fewer than {@code mr} rows (decode, M=1). */
    String defines(int rowBlock) {
        return "-D MR=" + rowBlock + " -D NR=" + nr + innerLoop.define;
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
    public boolean panels() { return innerLoop == InnerLoop.X86_VNNI || innerLoop == InnerLoop.X86_AMX; }

    /** The kernel in int8_gemm.cl this configuration runs. */
    String kernelName() {
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
    public int packedStride(int k) {
        if (innerLoop == InnerLoop.X86_VNNI) return (k + 3) / 4 * 64; // one 16-column panel: [K/4][16][4]
        if (innerLoop == InnerLoop.X86_AMX) return (k + 63) / 64 * 1024; // the same, K padded to whole 16 x 64-byte tiles
        int stride = (k + K_VECTOR - 1) / K_VECTOR * K_VECTOR;
        if (stride % 256 == 0) stride += 64;
        return stride;
    }

    /** One line for logs and the CLI. */
    public String describe() {
        return (innerLoop == InnerLoop.X86_AMX ? "tile block " : "register block ") + mr + "x" + nr
                + (panels() ? " (B in 16-column panels, K in groups of 4)" : ", K vector " + K_VECTOR + " x int8") + ", "
                + innerLoop.description
                + ", work-group " + (localColumns == 0 ? "chosen by the driver" : localColumns + " x 1");
    }
}
