package dev.offload.cl;

/** The OpenCL device kinds offload distinguishes (CL_DEVICE_TYPE). */
public enum DeviceType {
    CPU, GPU, ACCELERATOR, CUSTOM, OTHER;

    static DeviceType of(long bits) {
        if ((bits & Cl.DEVICE_TYPE_GPU) != 0) return GPU;
        if ((bits & Cl.DEVICE_TYPE_ACCELERATOR) != 0) return ACCELERATOR;
        if ((bits & Cl.DEVICE_TYPE_CPU) != 0) return CPU;
        if ((bits & Cl.DEVICE_TYPE_CUSTOM) != 0) return CUSTOM;
        return OTHER;
    }
}
