package dev.offload.runtime;

import dev.offload.cl.CommandBuffer;
import dev.offload.cl.Event;
import dev.offload.device.OpenClDevice;
import dev.offload.graph.Node;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A graph's run on one OpenCL device recorded once ({@link Recorder}) and replayed by {@link GraphRuntime} for every
 * later request of the same shape: the steps in the order the recorded run enqueued them, the device buffer of every
 * tensor, and the buffers it owns (every activation of the run, none reused within it, so that a replay finds each
 * tensor where the recorded commands read and write it).
 *
 * <p>A replay writes the request's inputs ({@link Write}), enqueues each {@link Segment} as one command, enqueues the
 * out-of-band commands of recorded nodes again ({@link Reissue}: a fill of a buffer the recording owns) and runs the
 * nodes that cannot be recorded as a plain run does ({@link PlainNode}: causal attention of a prompt chunk under a KV
 * cache, whose kernel arguments and copy offsets follow the cache's length), their outputs copied where the recording
 * has them. A decode step (one token per sequence) is recorded whole: its attention reads the cache's length from a
 * device buffer that the replay writes first ({@link KvCache#replayDecodeStep}).
 * Used by one run at a time.
 */
final class Recording implements AutoCloseable {
    /** One thing a replay does. */
    sealed interface Step permits Write, Segment, Reissue, PlainNode {}

    /** Graph input {@code tensor} is written from the request into {@code target} (for the profile: the reader's layer). */
    record Write(String tensor, String layer, ClTensor target) implements Step {}

    /** The recorded launches of consecutive nodes, enqueued as one command. */
    record Segment(CommandBuffer commands, List<Node> nodes) implements Step {
        String label() {
            return "replay:" + nodes.getFirst().name() + (nodes.size() > 1 ? ".." + nodes.getLast().name() : "");
        }
    }

    /** A command a recorded node enqueued itself (the same buffers and bytes every time), enqueued again. */
    record Reissue(String node, Supplier<Event> command) implements Step {}

    /**
     * A node run as in a plain run; its outputs are copied into the buffers its recorded run wrote them to, which the
     * recorded commands after it read (a device copy of one token's activations at decode).
     */
    record PlainNode(Node node) implements Step {}

    final OpenClDevice device;
    final List<Step> steps;
    /** Every tensor of the run that lives on the device, by name (graph inputs, outputs and what plain nodes read). */
    final Map<String, ClTensor> tensors;
    private final List<ClTensor> owned;
    private final DeviceAllocations allocations;
    /**
     * The KV cache whose buffers recorded decode-step launches read, or null: such a recording replays only with that
     * cache (another request's steps run plainly) and is dropped when it closes.
     */
    final KvCache cache;
    /** Whether the recorded run had a KV cache: its causal attention appended to one (a run without one does not). */
    final boolean withCache;
    /** The nodes whose recorded launches extend {@link #cache} by one token a step. */
    final List<String> cacheNodes;

    Recording(OpenClDevice device, List<Step> steps, Map<String, ClTensor> tensors, List<ClTensor> owned, DeviceAllocations allocations,
              boolean withCache, KvCache cache, List<String> cacheNodes) {
        this.device = device;
        this.withCache = withCache;
        this.cache = cache;
        this.cacheNodes = List.copyOf(cacheNodes);
        this.steps = List.copyOf(steps);
        this.tensors = Map.copyOf(tensors);
        this.owned = List.copyOf(owned);
        this.allocations = allocations;
        for (ClTensor t : owned) allocations.keptByRecording(t.buffer());
    }

    /** Recorded launches in all segments. */
    int recordedCommands() {
        return steps.stream().mapToInt(s -> s instanceof Segment g ? g.commands().commands() : 0).sum();
    }

    long segments() { return steps.stream().filter(s -> s instanceof Segment).count(); }

    long plainNodes() { return steps.stream().filter(s -> s instanceof PlainNode).count(); }

    /** Releases the command buffers and the owned buffers. No replay may be in flight (the runtime's runs have ended). */
    @Override
    public void close() {
        for (Step s : steps) if (s instanceof Segment g) g.commands().close();
        for (ClTensor t : owned) allocations.recordingClosed(t.device(), t.buffer());
    }
}
