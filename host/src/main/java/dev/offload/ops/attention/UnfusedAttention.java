package dev.offload.ops.attention;

import dev.offload.cl.Buffer;
import dev.offload.cl.Event;
import dev.offload.cl.Kernel;
import dev.offload.cl.Program;
import dev.offload.device.OpenClDevice;
import dev.offload.kernels.KernelFamily;

/**
 * Attention as three kernels with the score matrix in global memory: S = scale Q K^T + mask
 * ({@code attention_scores}), P = softmax(S) in place ({@code attention_softmax}), O = P V
 * ({@code attention_weighted_values}). The baseline the fused kernel is measured against, and an
 * independent second implementation. Needs 4 * B * H * Sq * Skv bytes of device memory for S.
 */
public final class UnfusedAttention implements AttentionOp {
    private final OpenClDevice device;

    public UnfusedAttention(OpenClDevice device) { this.device = device; }

    @Override public OpenClDevice device() { return device; }

    @Override
    public long run(AttentionProblem p, Buffer q, Buffer k, Buffer v, Buffer out) {
        AttentionOp.checkBuffers(p, q, k, v, out);
        if (p.layout() != AttentionProblem.Layout.HEAD_MAJOR) {
            throw new IllegalArgumentException("the unfused path takes head-major Q, K, V only, got " + p);
        }
        AttentionShape s = p.shape();
        int rows = Math.toIntExact(s.queryRows());
        long scoreBytes = 4L * rows * s.kvLength();
        if (scoreBytes > device.info().maxAllocBytes()) {
            throw new IllegalArgumentException("the unfused path needs a " + scoreBytes + "-byte score matrix for " + s
                    + ", more than the device's largest allocation (" + device.info().maxAllocBytes()
                    + " bytes); use FusedAttention");
        }
        Program program = device.program(KernelFamily.ATTENTION, FusedAttention.buildOptions(p));
        long[] perRow = {s.queryLength(), (long) s.batch() * s.heads()};
        try (Buffer scores = device.context().createBuffer(scoreBytes);
             MaskBuffers masks = new MaskBuffers(device, s, p.mask());
             Kernel scoreKernel = program.kernel("attention_scores");
             Kernel softmax = program.kernel("attention_softmax");
             Kernel weighted = program.kernel("attention_weighted_values")) {
            scoreKernel.setArgs(q, k, scores, s.heads(), s.kvHeads(), s.queryLength(), s.kvLength(), p.scale(), masks.args());
            softmax.setArgs(scores, rows, s.kvLength());
            weighted.setArgs(scores, v, out, s.heads(), s.kvHeads(), s.queryLength(), s.kvLength());
            try (Event e1 = device.launch(scoreKernel, perRow, null);
                 Event e2 = device.launch(softmax, new long[] {rows}, null);
                 Event e3 = device.launch(weighted, perRow, null)) {
                return e1.times().deviceNanos() + e2.times().deviceNanos() + e3.times().deviceNanos();
            }
        }
    }
}
