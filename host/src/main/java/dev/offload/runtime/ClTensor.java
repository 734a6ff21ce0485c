package dev.offload.runtime;

import dev.offload.cl.Buffer;
import dev.offload.device.OpenClDevice;
import dev.offload.graph.TensorType;

/**
 * A tensor in a buffer of one OpenCL device. The run that allocated it owns it and closes it after the tensor's
 * last use; the commands that write it are ordered before its readers by the device's in-order queue.
 */
public record ClTensor(TensorType type, Buffer buffer, OpenClDevice device) implements DeviceTensor {}
