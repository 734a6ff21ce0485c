package dev.offload.profile;

/**
 * One execution of one node (or one transfer) in one run. Times are nanoseconds on the host clock relative to
 * the run's start; OpenCL times come from profiling events, shifted onto the host clock per device.
 *
 * @param node       node name, or {@code transfer:<tensor>} for a copy between devices
 * @param layer      the node's layer ({@code embed}, {@code layer.0}, ...)
 * @param opKind     the op kind, or {@code transfer}
 * @param device     the spec of the device that ran it ({@code java}, {@code cl:0:0})
 * @param track      the queue it ran on, one trace track each ({@code java} for the host thread)
 * @param fallback   why it did not run where the plan put it, or null
 * @param startNs    when the device started it
 * @param endNs      when it finished
 * @param queueWaitNs queued -> start of its first command (0 for java)
 * @param deviceNs   the device's busy time: start -> end summed over its commands (wall time for java)
 * @param hostNs     host time spent enqueueing it (0 for java, whose work is all device time)
 * @param microBatch which micro-batch of the run it belongs to (0 when the batch was not split)
 */
public record OpSample(String node, String layer, String opKind, String device, String track, String fallback,
                       long startNs, long endNs, long queueWaitNs, long deviceNs, long hostNs,
                       long bytesRead, long bytesWritten, long operations, int microBatch) {
    public boolean isTransfer() { return opKind.equals("transfer"); }

    public boolean isFallback() { return fallback != null; }

    /** The same sample under another layer name (e.g. {@code decode:layer.0}), its times moved by {@code shiftNs}. */
    public OpSample relabeled(String newLayer, long shiftNs) {
        return new OpSample(node, newLayer, opKind, device, track, fallback, startNs + shiftNs, endNs + shiftNs, queueWaitNs,
                deviceNs, hostNs, bytesRead, bytesWritten, operations, microBatch);
    }
}
