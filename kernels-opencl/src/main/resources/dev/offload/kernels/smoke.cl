// Smoke test: y = a*x + y. Proves that a device builds and runs a program at all.

// Kernel style (host: dev.offload.device.KernelStyle). -D OFFLOAD_FPGA=1 builds the FPGA form: every kernel runs
// as single work-item work-groups (reqd_work_group_size(1,1,1), the form FPGA compilers pipeline) and the host
// launches it with a local size of 1. Without it the kernels take any work-group size.
#ifdef OFFLOAD_FPGA
#define KERNEL_SHAPE __attribute__((reqd_work_group_size(1, 1, 1)))
#else
#define KERNEL_SHAPE
#endif

__kernel KERNEL_SHAPE void saxpy(const float a, __global const float* x, __global float* y, const int n) {
    const int i = get_global_id(0);
    if (i < n) y[i] = fma(a, x[i], y[i]);
}
