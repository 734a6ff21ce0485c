package dev.offload.runtime;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The seam between the graph and the kernels: which {@link OpImplementation} runs an op kind on a backend.
 * Every kind has a java implementation; OpenCL implementations are registered per kind. A kind without one on
 * OpenCL runs on the java device wherever it is placed, marked as a fallback in the profile.
 *
 * <p>Wiring a new kernel family is one line in {@link #defaults()}, e.g.
 * {@code .with("linear", Backend.OPENCL, Int8LinearOpenCl.INSTANCE)}. Immutable; {@link #with} returns a copy
 * (tests use it to inject a failing implementation).
 */
public final class OpImplementations {
    private final Map<String, OpImplementation> openCl;

    private OpImplementations(Map<String, OpImplementation> openCl) { this.openCl = Map.copyOf(openCl); }

    /** The implementations shipped with offload. */
    public static OpImplementations defaults() {
        OpImplementations impls = new OpImplementations(Map.of());
        for (String kind : LayersOpenCl.KINDS) impls = impls.with(kind, Backend.OPENCL, LayersOpenCl.INSTANCE);
        return impls.with("attention", Backend.OPENCL, AttentionOpenCl.INSTANCE)
                .with("linear", Backend.OPENCL, Int8LinearOpenCl.INSTANCE)
                .with("sparse_linear", Backend.OPENCL, SparseLinearOpenCl.INSTANCE)
                .with("quantize", Backend.OPENCL, QuantizeOpenCl.INSTANCE);
    }

    /** A copy with {@code impl} running {@code kind} on {@code backend}. */
    public OpImplementations with(String kind, Backend backend, OpImplementation impl) {
        if (backend == Backend.JAVA) throw new IllegalArgumentException("the java backend runs every op through JavaImplementation");
        Map<String, OpImplementation> m = new HashMap<>(openCl);
        m.put(kind, impl);
        return new OpImplementations(m);
    }

    /** A copy without an OpenCL implementation for {@code kind} (it will run on java). */
    public OpImplementations without(String kind) {
        Map<String, OpImplementation> m = new HashMap<>(openCl);
        m.remove(kind);
        return new OpImplementations(m);
    }

    public Optional<OpImplementation> find(String kind, Backend backend) {
        return backend == Backend.JAVA ? Optional.of(JavaImplementation.INSTANCE) : Optional.ofNullable(openCl.get(kind));
    }
}
