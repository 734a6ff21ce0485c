// Smoke test: y = a*x + y. Proves that a device builds and runs a program at all.
__kernel void saxpy(const float a, __global const float* x, __global float* y, const int n) {
    const int i = get_global_id(0);
    if (i < n) y[i] = fma(a, x[i], y[i]);
}
