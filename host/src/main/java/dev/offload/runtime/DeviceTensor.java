package dev.offload.runtime;

import dev.offload.graph.TensorType;

/**
 * An activation tensor where it lives: in host arrays ({@link HostTensor}) or in a buffer on one OpenCL
 * device ({@link ClTensor}). A tensor may have copies on several devices during a run; the executor tracks them.
 */
public sealed interface DeviceTensor permits HostTensor, ClTensor {
    TensorType type();
}
