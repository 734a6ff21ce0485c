// Smoke test: y = a*x + y. Proves that a device builds and runs a program at all.

// KERNEL_SHAPE and the FPGA kernel style (offload.clh).
#include "offload.clh"

__kernel KERNEL_SHAPE void saxpy(const float a, __global const float* x, __global float* y, const int n) {
    const int i = get_global_id(0);
    if (i < n) y[i] = fma(a, x[i], y[i]);
}
