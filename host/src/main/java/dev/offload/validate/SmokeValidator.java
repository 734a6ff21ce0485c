package dev.offload.validate;

import dev.offload.cl.Buffer;
import dev.offload.cl.Kernel;
import dev.offload.device.OpenClDevice;
import dev.offload.kernels.KernelFamily;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** saxpy: proves the device, the program cache and the guarded-output machinery work at all. */
final class SmokeValidator implements OpValidator {
    @Override public String op() { return "smoke"; }

    @Override
    public List<CheckResult> validate(OpenClDevice device, ValidationOptions options) {
        List<CheckResult> out = new ArrayList<>();
        int[] sizes = options.quick() ? new int[] {1, 1021} : new int[] {1, 7, 1021, 1 << 20};
        SplittableRandom rnd = new SplittableRandom(options.seed());
        for (int n : sizes) {
            float a = (float) rnd.nextDouble(-4, 4);
            float[] x = new float[n], y = new float[n], want = new float[n];
            for (int i = 0; i < n; i++) {
                x[i] = (float) rnd.nextDouble(-1, 1);
                y[i] = (float) rnd.nextDouble(-1, 1);
                want[i] = Math.fma(a, x[i], y[i]);
            }
            try (GuardedOutput result = GuardedOutput.floats(device, n);
                 Buffer bx = device.upload(x); Buffer by = device.upload(y);
                 Kernel k = device.program(KernelFamily.SMOKE, "").kernel("saxpy")) {
                device.queue().copy(by, 0, result.buffer(), 0, 4L * n).close();
                k.setArgs(a, bx, result.buffer(), n);
                device.launch(k, new long[] {n}, null).close();
                device.queue().finish();
                out.add(Compare.relative(op(), "n=" + n, device.spec(), want, result.readFloats(), 0,
                        result.guardsIntact()));
            }
        }
        return out;
    }
}
