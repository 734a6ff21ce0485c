package dev.offload.runtime;

import dev.offload.device.ComputeDevice;
import dev.offload.device.JavaDevice;

/** The two ways an op can run: plain Java on the host, or OpenCL kernels on a device. */
public enum Backend {
    JAVA, OPENCL;

    public static Backend of(ComputeDevice d) { return d instanceof JavaDevice ? JAVA : OPENCL; }
}
