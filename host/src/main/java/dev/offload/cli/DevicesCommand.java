package dev.offload.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.offload.cl.Device;
import dev.offload.cl.DeviceInfo;
import dev.offload.device.DeviceRegistry;
import dev.offload.device.Emulation;
import dev.offload.config.OffloadSettings;
import dev.offload.device.KernelStyle;
import dev.offload.ops.attention.AttentionConfig;
import dev.offload.ops.blockq.BlockMatmul;
import dev.offload.ops.gemm.GemmConfig;
import dev.offload.ops.gemm.TiledGemmConfig;
import dev.offload.tuning.TuningStore;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** Lists every platform and device with the properties that matter for kernels. */
@Command(name = "devices", mixinStandardHelpOptions = true,
        description = {"List OpenCL platforms and devices, and the java reference device.",
                "The JSON form (--json) follows the schema 'offload.devices/1' documented in README.md."})
public final class DevicesCommand implements Callable<Integer> {
    @Mixin CommonOptions common;

    @Option(names = "--json", description = "Print JSON instead of a table.")
    boolean json;

    @Option(names = "--spark-resources", paramLabel = "NAME",
            description = "Print the OpenCL devices as an Apache Spark resource-discovery line: {\"name\":\"NAME\",\"addresses\":[\"cl:0:0\",...]} (the addresses are device specs).")
    String sparkResource;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        DeviceRegistry registry = common.registry();
        PrintWriter out = spec.commandLine().getOut();
        if (sparkResource != null) {
            out.println(new ObjectMapper().writeValueAsString(sparkResources(registry, sparkResource)));
        } else if (json) {
            ObjectMapper m = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            out.println(m.writeValueAsString(toJson(registry)));
        } else {
            printTable(registry, out);
        }
        out.flush();
        return 0;
    }

    /**
     * Spark's resource-discovery format (a discovery script prints it, one line): each address is the device's spec,
     * so that a task's assigned address goes to {@code --device} / {@code withPlacement} as it is. The java reference
     * device is no resource: it needs no assignment, every executor has it.
     */
    static Map<String, Object> sparkResources(DeviceRegistry registry, String name) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("name", name);
        root.put("addresses", registry.openClDevices().stream().map(Device::spec).toList());
        return root;
    }

    static Map<String, Object> toJson(DeviceRegistry registry) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("schema", "offload.devices/1");
        root.put("binding", registry.binding().id());
        root.put("openclAvailable", registry.unavailableReason().isEmpty());
        root.put("reason", registry.unavailableReason().orElse(null));
        root.put("default", registry.defaultSpec());
        List<Map<String, Object>> devices = new ArrayList<>();
        Map<String, Object> java = new LinkedHashMap<>();
        java.put("spec", "java");
        java.put("type", "JAVA");
        java.put("name", "pure-Java reference");
        java.put("computeUnits", Runtime.getRuntime().availableProcessors());
        devices.add(java);
        for (Device d : registry.openClDevices()) devices.add(deviceJson(d, registry.settings()));
        root.put("devices", devices);
        return root;
    }

    static Map<String, Object> deviceJson(Device d, OffloadSettings settings) {
        DeviceInfo i = d.info();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("spec", d.spec());
        m.put("id", d.stableId());
        m.put("type", i.type().name());
        m.put("name", i.name());
        m.put("vendor", i.vendor());
        m.put("platform", Map.of("index", d.platform().index(), "name", d.platform().name(),
                "vendor", d.platform().vendor(), "version", d.platform().version()));
        m.put("driverVersion", i.driverVersion());
        m.put("deviceVersion", i.deviceVersion());
        m.put("openclCVersion", i.openclCVersion());
        m.put("computeUnits", i.computeUnits());
        m.put("maxClockMhz", i.maxClockMhz());
        m.put("globalMemBytes", i.globalMemBytes());
        m.put("localMemBytes", i.localMemBytes());
        m.put("constantMemBytes", i.constantMemBytes());
        m.put("maxAllocBytes", i.maxAllocBytes());
        m.put("maxWorkGroupSize", i.maxWorkGroupSize());
        m.put("maxWorkItemSizes", i.maxWorkItemSizes());
        m.put("preferredVectorWidth", Map.of("char", i.preferredVectorWidthChar(), "int", i.preferredVectorWidthInt(),
                "float", i.preferredVectorWidthFloat()));
        m.put("fp16", i.fp16());
        m.put("fp64", i.fp64());
        Map<String, Object> dot = new LinkedHashMap<>();
        dot.put("khr", i.dotProduct() != null);
        if (i.dotProduct() != null) {
            dot.put("input4x8Bit", i.dotProduct().input4x8Bit());
            dot.put("input4x8BitPacked", i.dotProduct().input4x8BitPacked());
            dot.put("accelerated8Bit", i.dotProduct().eightBit());
            dot.put("accelerated4x8BitPacked", i.dotProduct().fourByEightBitPacked());
        }
        dot.put("armInt8", i.armDotProductInt8());
        m.put("integerDotProduct", dot);
        m.put("maxSubGroups", i.maxSubGroups());
        m.put("subGroups", i.maxSubGroups() > 0 || i.hasExtension("cl_khr_subgroups") || i.hasExtension("cl_intel_subgroups"));
        m.put("emulation", Emulation.describe(d, settings.xclEmulationMode()));
        m.put("kernelStyle", settings.kernelStyleFor(i).id());
        GemmConfig.Choice gemm = gemmChoice(i, settings);
        m.put("int8Gemm", Map.of("family", gemm.config().family().id(), "config", gemm.config().brief(),
                "params", gemm.config().toParams(), "source", gemm.source().label(), "origin", gemm.origin()));
        m.put("attention", attentionLine(i, settings));
        m.put("decodeMatvec", matvecLine(i, settings));
        m.put("extensions", List.copyOf(i.extensions()));
        return m;
    }

    private static String mib(long bytes) {
        return bytes >= 1L << 30 ? String.format("%.1f GiB", bytes / (double) (1L << 30))
                : String.format("%d KiB", bytes >> 10);
    }

    static void printTable(DeviceRegistry registry, PrintWriter out) {
        out.printf("binding: %s%n", registry.binding().id());
        registry.unavailableReason().ifPresent(r -> out.println("OpenCL: " + r));
        out.println();
        out.println("java      pure-Java reference device (" + Runtime.getRuntime().availableProcessors() + " cores)");
        for (Device d : registry.openClDevices()) {
            DeviceInfo i = d.info();
            out.printf("%-9s %s  [%s]%n", d.spec(), i.name(), i.type());
            out.printf("          platform    %s (%s), %s%n", d.platform().name(), d.platform().vendor(), d.platform().version());
            out.printf("          vendor      %s; driver %s; %s; %s%n", i.vendor(), i.driverVersion(), i.deviceVersion(), i.openclCVersion());
            out.printf("          compute     %d units @ %d MHz; max work-group %d, item sizes %s%n", i.computeUnits(),
                    i.maxClockMhz(), i.maxWorkGroupSize(), i.maxWorkItemSizes());
            out.printf("          memory      global %s, local %s, constant %s, max alloc %s%n", mib(i.globalMemBytes()),
                    mib(i.localMemBytes()), mib(i.constantMemBytes()), mib(i.maxAllocBytes()));
            out.printf("          vectors     char %d, int %d, float %d; fp16 %s, fp64 %s; sub-groups %s%n",
                    i.preferredVectorWidthChar(), i.preferredVectorWidthInt(), i.preferredVectorWidthFloat(),
                    yes(i.fp16()), yes(i.fp64()), i.maxSubGroups() > 0 ? "yes (max " + i.maxSubGroups() + ")" : "no");
            String dot = i.dotProduct() == null ? "no cl_khr_integer_dot_product"
                    : "cl_khr_integer_dot_product (4x8bit " + yes(i.dotProduct().input4x8Bit()) + ", packed "
                    + yes(i.dotProduct().input4x8BitPacked()) + ", accelerated "
                    + yes(i.dotProduct().eightBit() != null && i.dotProduct().eightBit().any()) + ")";
            out.printf("          int8 dot    %s%s%n", dot, i.armDotProductInt8() ? ", cl_arm_integer_dot_product_int8" : "");
            GemmConfig.Choice gemm = gemmChoice(i, registry.settings());
            boolean tiledOnRequest = !(gemm.config() instanceof TiledGemmConfig) && registry.settings().kernelStyleFor(i) != KernelStyle.FPGA
                    && TiledGemmConfig.forDevice(i).runsOn(i);
            out.printf("          int8 gemm   %s%s%n", gemmLine(gemm), tiledOnRequest ? "; tiled family on request (tune --family tiled)" : "");
            out.printf("          attention   %s%n", attentionLine(i, registry.settings()));
            out.printf("          decode mv   %s%n", matvecLine(i, registry.settings()));
            String emu = Emulation.describe(d, registry.settings().xclEmulationMode());
            if (emu != null) out.printf("          emulation   %s%n", emu);
            out.printf("          kernels     %s%n", styleLine(i, registry.settings()));
            out.printf("          id          %s%n", d.stableId());
        }
        out.println();
        out.println("default device: " + registry.defaultSpec());
    }

    /**
     * The int8 GEMM configuration the device gets, as Int8Gemm.on picks it: tuned or default in the portable style,
     * the direct family's FPGA defaults in FPGA style (tuned entries are for the portable style).
     */
    static GemmConfig.Choice gemmChoice(DeviceInfo i, OffloadSettings settings) {
        KernelStyle style = settings.kernelStyleFor(i);
        if (style == KernelStyle.FPGA) {
            return new GemmConfig.Choice(GemmConfig.forDevice(i, style), TuningStore.Source.DEFAULT, "GemmConfig.forDevice (FPGA style)");
        }
        return GemmConfig.resolve(i);
    }

    /**
     * Which attention kernel the device's problems get: the GPU-shaped attention_tiled (local-memory tiles, online
     * softmax) or the CPU-shaped attention_fused, from the tuned or default configuration; the FPGA style keeps the
     * CPU-shaped kernels (FusedAttention#tileFor).
     */
    static String attentionLine(DeviceInfo i, OffloadSettings settings) {
        AttentionConfig.Choice c = AttentionConfig.resolve(i);
        AttentionConfig.Tiled t = c.config().tiled();
        if (t == null || settings.kernelStyleFor(i) == KernelStyle.FPGA) {
            return "attention_fused (CPU-shaped: a work-item per query row, keys split for decode)"
                    + (t != null ? "; the FPGA style keeps it" : "") + " [" + c.source().label() + "]";
        }
        return "attention_tiled " + t.rows() + " query rows x " + t.keys() + " keys a tile, " + t.itemsPerRow() + " work-items a row, "
                + (t.subGroups() ? "sub-group reductions" : "local-memory reductions") + " [" + c.source().label() + "]";
    }

    /** Which kernel a decode step's block-quantized matvec (Q8_0/Q4_0, up to 4 rows of x) runs on the device. */
    static String matvecLine(DeviceInfo i, OffloadSettings settings) { return BlockMatmul.decodeKernel(i, settings.kernelStyleFor(i)); }

    /** The GEMM family (which .cl file) and configuration, with where it came from. */
    static String gemmLine(GemmConfig.Choice c) {
        String family = c.config() instanceof TiledGemmConfig ? "tiled (local memory)" : "direct";
        return family + " family, " + c.config().family().id() + ".cl: " + c.config().brief()
                + " [" + c.source().label() + ": " + c.origin() + "]";
    }

    /** The kernel style the device gets, and why. */
    static String styleLine(DeviceInfo i, OffloadSettings settings) {
        KernelStyle style = settings.kernelStyleFor(i);
        String why = settings.kernelStyle() != null ? "forced by " + OffloadSettings.KERNEL_STYLE_ENV + "=" + style.id()
                : style == KernelStyle.FPGA ? "accelerator" : "CPU/GPU";
        return style.id() + " style (" + why + (style == KernelStyle.FPGA
                ? "; built with " + style.define() + ": single work-item kernels, no x86 built-ins)" : ")");
    }

    private static String yes(boolean b) { return b ? "yes" : "no"; }
}
