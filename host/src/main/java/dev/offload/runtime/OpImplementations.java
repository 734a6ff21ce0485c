package dev.offload.runtime;

import dev.offload.graph.Op;
import dev.offload.ops.attention.AttentionJava;
import dev.offload.ops.attention.AttentionOpenCl;
import dev.offload.ops.blockq.BlockLinearJava;
import dev.offload.ops.blockq.BlockLinearOpenCl;
import dev.offload.ops.gemm.Int8LinearOpenCl;
import dev.offload.ops.gemm.LinearJava;
import dev.offload.ops.layers.LayersJava;
import dev.offload.ops.layers.LayersOpenCl;
import dev.offload.ops.quant.QuantizeJava;
import dev.offload.ops.quant.QuantizeOpenCl;
import dev.offload.ops.sparse.SparseLinearJava;
import dev.offload.ops.sparse.SparseLinearOpenCl;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The seam between the graph and the kernels: which {@link OpImplementation} runs an op class on a backend. Each op
 * family in {@code dev.offload.ops} contributes its java implementation (the reference, and the last fallback) and,
 * where it has kernels, its OpenCL one. An op without an OpenCL implementation runs on the java device wherever it
 * is placed, marked as a fallback in the profile.
 *
 * <p>Wiring a new family is one line per backend in {@link #defaults()}, e.g.
 * {@code .with(Backend.OPENCL, Int8LinearOpenCl.INSTANCE, Int8LinearOpenCl.OPS)}. Immutable; {@link #with} and
 * {@link #without} return copies (tests use them to inject a failing implementation or to take one away).
 */
public final class OpImplementations {
    private final Map<Class<? extends Op>, Map<Backend, OpImplementation>> byOp;

    private OpImplementations(Map<Class<? extends Op>, Map<Backend, OpImplementation>> byOp) { this.byOp = byOp; }

    /** No implementation at all. */
    public static OpImplementations empty() { return new OpImplementations(Map.of()); }

    /** The implementations shipped with offload, family by family. */
    public static OpImplementations defaults() {
        return empty()
                .with(Backend.JAVA, LinearJava.INSTANCE, LinearJava.OPS)
                .with(Backend.OPENCL, Int8LinearOpenCl.INSTANCE, Int8LinearOpenCl.OPS)
                .with(Backend.JAVA, BlockLinearJava.INSTANCE, BlockLinearJava.OPS)
                .with(Backend.OPENCL, BlockLinearOpenCl.INSTANCE, BlockLinearOpenCl.OPS)
                .with(Backend.JAVA, SparseLinearJava.INSTANCE, SparseLinearJava.OPS)
                .with(Backend.OPENCL, SparseLinearOpenCl.INSTANCE, SparseLinearOpenCl.OPS)
                .with(Backend.JAVA, AttentionJava.INSTANCE, AttentionJava.OPS)
                .with(Backend.OPENCL, AttentionOpenCl.INSTANCE, AttentionOpenCl.OPS)
                .with(Backend.JAVA, QuantizeJava.INSTANCE, QuantizeJava.OPS)
                .with(Backend.OPENCL, QuantizeOpenCl.INSTANCE, QuantizeOpenCl.OPS)
                .with(Backend.JAVA, LayersJava.INSTANCE, LayersJava.OPS)
                .with(Backend.OPENCL, LayersOpenCl.INSTANCE, LayersOpenCl.OPS);
    }

    /** A copy with {@code impl} running {@code op} on {@code backend} (replacing what ran it there). */
    public OpImplementations with(Class<? extends Op> op, Backend backend, OpImplementation impl) {
        Map<Class<? extends Op>, Map<Backend, OpImplementation>> m = copy();
        m.computeIfAbsent(op, k -> new EnumMap<>(Backend.class)).put(backend, impl);
        return new OpImplementations(m);
    }

    /** A copy with {@code impl} running every op of {@code ops} on {@code backend}. */
    public OpImplementations with(Backend backend, OpImplementation impl, Set<Class<? extends Op>> ops) {
        OpImplementations out = this;
        for (Class<? extends Op> op : ops) out = out.with(op, backend, impl);
        return out;
    }

    /** A copy without an implementation of {@code op} on {@code backend} (OpenCL: it will run on java). */
    public OpImplementations without(Class<? extends Op> op, Backend backend) {
        Map<Class<? extends Op>, Map<Backend, OpImplementation>> m = copy();
        Map<Backend, OpImplementation> backends = m.get(op);
        if (backends != null) backends.remove(backend);
        return new OpImplementations(m);
    }

    /** What runs {@code op} on {@code backend}, if anything does. */
    public Optional<OpImplementation> find(Op op, Backend backend) { return find(op.getClass(), backend); }

    /** What runs ops of class {@code op} on {@code backend}, if anything does. */
    public Optional<OpImplementation> find(Class<? extends Op> op, Backend backend) {
        Map<Backend, OpImplementation> backends = byOp.get(op);
        return Optional.ofNullable(backends == null ? null : backends.get(backend));
    }

    private Map<Class<? extends Op>, Map<Backend, OpImplementation>> copy() {
        Map<Class<? extends Op>, Map<Backend, OpImplementation>> m = new HashMap<>();
        byOp.forEach((op, backends) -> m.put(op, new EnumMap<>(backends)));
        return m;
    }
}
