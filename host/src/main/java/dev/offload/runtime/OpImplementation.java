package dev.offload.runtime;

import dev.offload.device.ComputeDevice;
import dev.offload.graph.Graph;
import dev.offload.graph.Node;
import java.util.List;

/**
 * How one op kind runs on one backend. {@link #prepare} is called once per (node, device) and takes the node's
 * weights on the device from {@code weights} (shared with every other node and runtime that reads the same host
 * arrays; a holder from {@link ResidentWeights#holder}, closed with the prepared node); the runtime caches the result
 * and closes it when it closes. Throwing
 * {@link dev.offload.cl.ClException} from either step (build failure, CL_OUT_OF_RESOURCES, device lost), or
 * {@link Unsupported} from {@link #prepare} (a shape the kernels cannot take), makes the runtime re-place the node
 * on the next device of the plan, with a warning.
 */
public interface OpImplementation {
    Prepared prepare(Graph graph, Node node, ComputeDevice device, ResidentWeights weights);

    /** This implementation cannot run this node on this device (its kernels do not take the shape): try the next one. */
    final class Unsupported extends RuntimeException {
        public Unsupported(String reason) { super(reason); }
    }

    /** A node made ready for one device: weights resident there, kernels' program built. */
    interface Prepared extends AutoCloseable {
        /**
         * Runs the node. For the java backend inputs are {@link HostTensor}s and the call computes the outputs.
         * For OpenCL they are {@link ClTensor}s on this device; the call allocates outputs with
         * {@link RunContext#allocate}, enqueues kernels with {@link RunContext#launch} and returns without waiting.
         */
        List<DeviceTensor> run(List<DeviceTensor> inputs, RunContext context);

        @Override default void close() {}
    }
}
