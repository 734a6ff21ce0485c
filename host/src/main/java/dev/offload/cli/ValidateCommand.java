package dev.offload.cli;

import dev.offload.device.DeviceRegistry;
import dev.offload.device.KernelStyle;
import dev.offload.device.OpenClDevice;
import dev.offload.ops.attention.AttentionConfig;
import dev.offload.ops.gemm.GemmConfig;
import dev.offload.validate.CheckResult;
import dev.offload.validate.Validation;
import dev.offload.validate.ValidationOptions;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** Checks every op on every selected OpenCL device against the java reference. */
@Command(name = "validate", mixinStandardHelpOptions = true,
        description = {"Sweep random shapes and masks for every op on every selected OpenCL device and compare with the "
                + "java reference. Outputs are poisoned and guarded, so unwritten elements and out-of-bounds writes fail.",
                "Exit code 0 when every case passes, 1 otherwise."})
public final class ValidateCommand implements Callable<Integer> {
    @Mixin CommonOptions common;

    @Option(names = "--device", paramLabel = "SPEC", description = "OpenCL device to validate (repeatable; default: all).")
    List<String> devices = new ArrayList<>();

    @Option(names = "--ops", split = ",", paramLabel = "OP", description = "Ops to validate (default: all).")
    List<String> ops = new ArrayList<>();

    @Option(names = "--seed", description = "Random seed (default: ${DEFAULT-VALUE}).", defaultValue = "1")
    long seed;

    @Option(names = "--quick", description = "A small subset of shapes (for CI).")
    boolean quick;

    @Option(names = "--kernel-style", paramLabel = "fpga|portable",
            description = "Build and launch every kernel in this style (default: each device's own, see 'devices'). "
                    + "'fpga' checks the single work-item FPGA variants on any device.")
    String kernelStyle;

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        DeviceRegistry registry = common.registry();
        List<OpenClDevice> opened = new ArrayList<>();
        try {
            if (devices.isEmpty()) {
                registry.openClDevices().forEach(d -> opened.add(registry.open(d)));
            } else {
                for (String s : devices) {
                    opened.add(registry.open(registry.resolve(s).orElseThrow(() ->
                            new UserError("validate compares OpenCL devices with the java reference; '" + s
                                    + "' is the reference itself"))));
                }
            }
            if (opened.isEmpty()) {
                throw new UserError("nothing to validate: " + registry.unavailableReason().orElse("no OpenCL device"));
            }
            if (kernelStyle != null) {
                KernelStyle style;
                try {
                    style = KernelStyle.parse(kernelStyle, "--kernel-style");
                } catch (IllegalArgumentException e) {
                    throw new UserError(e.getMessage());
                }
                opened.forEach(d -> d.kernelStyle(style));
            }
            out.printf("validating on %s (binding %s, seed %d%s, kernel style %s)%n",
                    opened.stream().map(OpenClDevice::description).toList(), registry.binding().id(), seed,
                    quick ? ", quick" : "", opened.stream().map(d -> d.kernelStyle().id()).distinct().toList());
            if (ops.isEmpty() || ops.contains(GemmConfig.OP)) {
                for (OpenClDevice d : opened) out.println("int8_gemm config on " + d.spec() + ": " + GemmConfig.resolve(d.info()).describe());
            }
            if (ops.isEmpty() || ops.contains(AttentionConfig.OP)) {
                for (OpenClDevice d : opened) out.println("attention config on " + d.spec() + ": " + AttentionConfig.resolve(d.info()).describe());
            }
            out.flush();
            List<CheckResult> results = Validation.run(opened, new LinkedHashSet<>(ops), new ValidationOptions(seed, quick));
            print(results, out);
            long failed = results.stream().filter(r -> !r.passed()).count();
            out.printf("%n%d cases, %d passed, %d failed%n", results.size(), results.size() - failed, failed);
            out.flush();
            return failed == 0 ? 0 : 1;
        } finally {
            opened.forEach(OpenClDevice::close);
        }
    }

    static void print(List<CheckResult> results, PrintWriter out) {
        int wOp = 10, wShape = 12, wDev = 8;
        for (CheckResult r : results) {
            wOp = Math.max(wOp, r.op().length());
            wShape = Math.max(wShape, r.shape().length());
            wDev = Math.max(wDev, r.device().length());
        }
        String fmt = "%-" + wOp + "s  %-" + wShape + "s  %-" + wDev + "s  %10s  %8s  %s%n";
        out.printf(fmt, "op", "shape", "device", "max error", "bound", "verdict");
        for (CheckResult r : results) {
            out.printf(fmt, r.op(), r.shape(), r.device(), String.format("%.3g", r.maxError()),
                    String.format("%.1g", r.bound()), r.passed() ? "PASS" : "FAIL " + r.detail());
        }
    }
}
