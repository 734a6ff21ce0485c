package dev.offload.device;

import dev.offload.cl.Kernel;

/**
 * Enqueues a kernel whose arguments are set, without waiting. Op classes that can run inside a larger pipeline
 * (the graph runtime) take one, so the caller decides where events go (profiling, ordering) and nothing blocks
 * between kernels; the kernel object may be closed right after the call (OpenCL retains it for the launch).
 */
@FunctionalInterface
public interface KernelLauncher {
    void launch(Kernel kernel, long[] global, long[] local);
}
