package dev.offload.ops.attention;

import dev.offload.cl.Buffer;
import dev.offload.device.OpenClDevice;
import java.lang.foreign.Arena;

/** Attention on an OpenCL device: the fused kernel or the unfused three-pass path. */
public sealed interface AttentionOp permits FusedAttention, UnfusedAttention {

    OpenClDevice device();

    /**
     * Computes O into {@code out} and waits for it.
     *
     * @param q   Q [B,H,Sq,D] in {@code problem.storage()} format
     * @param k   K [B,Hkv,Skv,D], same format
     * @param v   V [B,Hkv,Skv,D], same format
     * @param out O [B,H,Sq,D] float32, at least {@code 4 * outputElements} bytes
     * @return device time of the kernels in nanoseconds
     */
    long run(AttentionProblem problem, Buffer q, Buffer k, Buffer v, Buffer out);

    /** Array convenience: uploads Q, K, V (rounded to the problem's storage), runs, reads O back. */
    default float[] compute(AttentionProblem problem, float[] q, float[] k, float[] v) {
        AttentionShape s = problem.shape();
        if (q.length != s.queryElements() || k.length != s.kvElements() || v.length != s.kvElements()) {
            throw new IllegalArgumentException("inputs have " + q.length + "/" + k.length + "/" + v.length
                    + " elements (Q/K/V), " + s + " needs " + s.queryElements() + "/" + s.kvElements() + "/" + s.kvElements());
        }
        OpenClDevice d = device();
        int outCount = Math.toIntExact(s.outputElements());
        try (Arena arena = Arena.ofConfined();
             Buffer qb = d.upload(problem.storage().encode(arena, q));
             Buffer kb = d.upload(problem.storage().encode(arena, k));
             Buffer vb = d.upload(problem.storage().encode(arena, v));
             Buffer ob = d.context().createBuffer(4L * outCount)) {
            run(problem, qb, kb, vb, ob);
            return d.readFloats(ob, outCount);
        }
    }

    /** Checks that caller-provided buffers are large enough for the problem. */
    static void checkBuffers(AttentionProblem p, Buffer q, Buffer k, Buffer v, Buffer out) {
        AttentionShape s = p.shape();
        int e = p.storage().bytes();
        need("Q", q, s.queryElements() * e, p);
        need("K", k, s.kvElements() * e, p);
        need("V", v, s.kvElements() * e, p);
        need("O", out, s.outputElements() * 4, p);
    }

    private static void need(String name, Buffer b, long bytes, AttentionProblem p) {
        if (b.size() < bytes) {
            throw new IllegalArgumentException(name + " buffer has " + b.size() + " bytes, " + p + " needs " + bytes);
        }
    }
}
