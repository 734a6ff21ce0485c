package dev.offload.ops.gemm;

import dev.offload.cl.DeviceInfo;
import dev.offload.cl.DeviceType;
import dev.offload.device.KernelStyle;
import dev.offload.kernels.KernelFamily;
import dev.offload.tuning.TunedEntry;
import dev.offload.tuning.TuningStore;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.LoggerFactory;

/**
 * The build-time configuration of the INT8 GEMM on one device, in one of two kernel families:
 * <ul>
 *   <li>{@link DirectGemmConfig}: int8_gemm.cl, A and B read straight from global memory by each work-item
 *       (CPUs: vpmaddwd / VNNI / AMX; FPGA style: single work-item kernels);</li>
 *   <li>{@link TiledGemmConfig}: int8_gemm_tiled.cl, work-group tiles staged in local memory (GPUs).</li>
 * </ul>
 * Both compute ONNX MatMulInteger with the same fused epilogues; they differ in the loop nest, the build defines,
 * how B is packed and the launch geometry. {@link #forDevice} picks the family, {@link #resolve} lets the tuning
 * database override it.
 */
public sealed interface GemmConfig permits DirectGemmConfig, TiledGemmConfig {

    /** The op's name in the tuning database and in {@code tune --ops}. */
    String OP = "int8_gemm";

    /** The inner loop's arithmetic (build defines of int8_gemm.cl; the tiled family takes DOT_PRODUCT or PORTABLE). */
    enum InnerLoop {
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
        /** Portable OpenCL C: widen to int vectors, multiply, add. */
        PORTABLE(" -D PORTABLE_ONLY", "portable multiply-add"),
        /** cl_khr_integer_dot_product's dot(char4, char4) (emulated on devices without the extension). */
        DOT_PRODUCT(" -D USE_INTEGER_DOT_PRODUCT", "cl_khr_integer_dot_product dot(char4, char4)");

        private final String define;
        private final String description;

        InnerLoop(String define, String description) {
            this.define = define;
            this.description = description;
        }

        /** The build define (with a leading space), empty for AUTO. */
        public String define() { return define; }

        public String description() { return description; }

        /** The {@code innerLoop} parameter of a tuning entry; an unknown name is refused. */
        static InnerLoop fromParams(TunedEntry e) {
            String loop = e.stringParam("innerLoop");
            try {
                return valueOf(loop);
            } catch (IllegalArgumentException x) {
                throw new IllegalArgumentException("innerLoop " + loop + " is not one of " + java.util.Arrays.toString(values()));
            }
        }
    }

    /** How the inner loop multiplies and adds. */
    InnerLoop innerLoop();

    /** The kernel family (the .cl file) this configuration builds. */
    KernelFamily family();

    /** The kernel in that family's program this configuration runs. */
    String kernelName();

    /** Build options (before the epilogue and the device's style define) for products of any number of rows. */
    String defines();

    /** Build options for a product with {@code rows} rows of A (the direct family shrinks its row block). */
    String defines(int rows);

    /** Every option string {@link #defines(int)} can return: what {@code bitstreams build} prebuilds. */
    List<String> allDefines();

    /** Packed B has its columns padded to a multiple of this. */
    int columnMultiple();

    /** The byte stride of packed B's rows (transposed layout) or panels (VNNI/AMX) for a given K. */
    int packedStride(int k);

    /** B is packed in 16-column panels of 4-byte groups along K (VNNI, AMX), else transposed ([nPadded][stride]). */
    boolean panels();

    /** Whether the device can run this configuration (built-ins the host lacks, work-group or local memory limits). */
    boolean runsOn(DeviceInfo info);

    /** The parameters as stored in the tuning database. */
    Map<String, Object> toParams();

    /** Short form for tables. */
    String brief();

    /** One line for logs and the CLI. */
    String describe();

    /**
     * The defaults for a device in its kernel style: GPUs and other non-CPU devices in the portable style get the
     * tiled family ({@link TiledGemmConfig#forDevice}); CPUs and every FPGA-style device the direct one
     * ({@link DirectGemmConfig#forDevice}).
     */
    static GemmConfig forDevice(DeviceInfo info) { return forDevice(info, KernelStyle.forDevice(info)); }

    /** The defaults for a device whose kernels are built in {@code style} (FPGA style: always the direct family). */
    static GemmConfig forDevice(DeviceInfo info, KernelStyle style) {
        if (style != KernelStyle.FPGA && info.type() != DeviceType.CPU) {
            TiledGemmConfig tiled = TiledGemmConfig.forDevice(info);
            if (tiled.runsOn(info)) return tiled;
        }
        return DirectGemmConfig.forDevice(info, style);
    }

    /** The configuration a tuning entry holds: {@code "family": "tiled"} for the tiled family, else the direct one. */
    static GemmConfig fromParams(TunedEntry e) {
        Object family = e.params().get("family");
        if (family == null || TiledGemmConfig.FAMILY.equals(family)) {
            return family == null ? DirectGemmConfig.fromParams(e) : TiledGemmConfig.fromParams(e);
        }
        throw new IllegalArgumentException("family " + family + " is not '" + TiledGemmConfig.FAMILY + "' (or absent: direct)");
    }

    /**
     * A configuration and where it came from.
     *
     * @param origin the file or resource of a tuned/db entry, or "GemmConfig.forDevice"
     */
    record Choice(GemmConfig config, TuningStore.Source source, String origin) {
        /** One line for the CLI: the configuration and its source. */
        public String describe() { return config.describe() + " [" + source.label() + ": " + origin + "]"; }
    }

    /** The configuration for a device from the standard tuning store (user cache, then repository), else the defaults. */
    static Choice resolve(DeviceInfo info) { return resolve(info, TuningStore.standard()); }

    /**
     * The tuned entry for this device name and driver version when there is one the device can run (an entry
     * asking for VNNI on a host without it, e.g. a copied cache, is skipped with a warning), else {@link #forDevice}.
     */
    static Choice resolve(DeviceInfo info, TuningStore store) {
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
                LoggerFactory.getLogger(GemmConfig.class).warn("tuned int8 GEMM entry for {} ({}) asks for {}, which this device cannot run; using the defaults",
                        info.name(), f.source().label(), c.describe());
            } catch (IllegalArgumentException e) {
                LoggerFactory.getLogger(GemmConfig.class).warn("ignoring tuned int8 GEMM entry for {} ({}): {}",
                        info.name(), f.source().label(), e.getMessage());
            }
        }
        return new Choice(forDevice(info), TuningStore.Source.DEFAULT, "GemmConfig.forDevice");
    }
}
