package dev.offload.cli;

import dev.offload.cl.Buffer;
import dev.offload.cl.Event;
import dev.offload.cl.Kernel;
import dev.offload.device.ComputeDevice;
import dev.offload.device.DeviceRegistry;
import dev.offload.device.OpenClDevice;
import dev.offload.kernels.KernelFamily;
import java.io.PrintWriter;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** The main job. Until model inference lands, it shows the devices and runs a smoke kernel on the default one. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Run the main job on a device (now: list devices and run a smoke kernel checked against Java).")
public final class RunCommand implements Callable<Integer> {
    @Mixin CommonOptions common;

    @Option(names = "--device", paramLabel = "SPEC", description = "Device (java, cl:cpu, cl:gpu, cl:0:0, cl:name=...). Default: $OFFLOAD_DEVICE, else the first GPU/accelerator, else CPU, else java.")
    String device;

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        DeviceRegistry registry = common.registry();
        DevicesCommand.printTable(registry, out);
        String chosen = device != null ? device : registry.defaultSpec();
        registry.unavailableReason().ifPresent(r ->
                out.println("note: running on the java device only: " + r));
        try (ComputeDevice d = registry.open(chosen)) {
            out.println();
            out.println("smoke kernel (saxpy, 1M floats) on " + d.description());
            int n = 1 << 20;
            Random rnd = new Random(1);
            float[] x = new float[n], y = new float[n], want = new float[n];
            for (int i = 0; i < n; i++) { x[i] = rnd.nextFloat(); y[i] = rnd.nextFloat(); want[i] = Math.fma(2.5f, x[i], y[i]); }
            float[] got;
            long nanos;
            if (d instanceof OpenClDevice cl) {
                try (Buffer bx = cl.upload(x); Buffer by = cl.upload(y);
                     Kernel k = cl.program(KernelFamily.SMOKE, "").kernel("saxpy")) {
                    k.arg(0, 2.5f).arg(1, bx).arg(2, by).arg(3, n);
                    try (Event e = cl.queue().launch(k, new long[] {n}, null)) {
                        nanos = e.times().deviceNanos();
                    }
                    got = cl.readFloats(by, n);
                }
            } else {
                long t0 = System.nanoTime();
                got = new float[n];
                for (int i = 0; i < n; i++) got[i] = Math.fma(2.5f, x[i], y[i]);
                nanos = System.nanoTime() - t0;
            }
            int mismatches = 0;
            for (int i = 0; i < n; i++) if (Float.floatToIntBits(got[i]) != Float.floatToIntBits(want[i])) mismatches++;
            out.printf("kernel time %.3f ms, %d of %d elements differ from Java: %s%n", nanos / 1e6, mismatches, n,
                    mismatches == 0 ? "OK" : "FAIL");
            out.flush();
            return mismatches == 0 ? 0 : 1;
        }
    }
}
