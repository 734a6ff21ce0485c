package dev.offload.bench;

import dev.offload.cl.Buffer;
import dev.offload.device.OpenClDevice;
import dev.offload.ops.attention.AttentionOp;
import dev.offload.ops.attention.AttentionProblem;
import dev.offload.ops.attention.AttentionShape;
import dev.offload.ops.attention.FusedAttention;
import dev.offload.ops.attention.Mask;
import dev.offload.ops.attention.UnfusedAttention;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Fused attention against the unfused three-kernel path (scores -> softmax -> ·V) on the same device:
 * GFLOPS from kernel time (profiling events; both paths summed over their kernels), and fused/unfused.
 */
final class AttentionBench {
    private AttentionBench() {}

    record Case(AttentionShape shape, boolean causal) {}

    static List<Case> cases(boolean quick) {
        List<Case> cs = new ArrayList<>();
        int[] lengths = quick ? new int[] {256} : new int[] {512, 2048};
        int[] dims = quick ? new int[] {64} : new int[] {64, 128};
        for (int s : lengths) for (int d : dims) for (boolean c : new boolean[] {false, true}) {
            cs.add(new Case(new AttentionShape(1, 8, 8, s, s, d), c));
        }
        int decodeKv = quick ? 1024 : 4096;
        for (int d : dims) cs.add(new Case(new AttentionShape(1, 32, 8, 1, decodeKv, d), false));
        return cs;
    }

    static void run(Report report, OpenClDevice device, boolean quick) {
        int reps = quick ? 3 : 7;
        for (Case c : cases(quick)) {
            AttentionShape s = c.shape();
            AttentionProblem p = AttentionProblem.of(s).withMask(c.causal() ? Mask.CAUSAL : Mask.NONE);
            SplittableRandom rnd = new SplittableRandom(11);
            float[] q = random(rnd, s.queryElements()), k = random(rnd, s.kvElements()), v = random(rnd, s.kvElements());
            try (Buffer bq = device.upload(q); Buffer bk = device.upload(k); Buffer bv = device.upload(v);
                 Buffer out = device.context().createBuffer(4 * s.outputElements())) {
                double fused = time(new FusedAttention(device), p, bq, bk, bv, out, reps);
                double unfused = time(new UnfusedAttention(device), p, bq, bk, bv, out, reps);
                String name = (s.queryLength() == 1 ? "decode " : "") + "Sq" + s.queryLength() + " Skv" + s.kvLength()
                        + " D" + s.headDim() + " H" + s.heads() + "/" + s.kvHeads() + (c.causal() ? " causal" : "");
                double flops = p.flops();
                report.add(new BenchRow("attention", name, "offload-fused", device.spec(), fused / 1e6,
                        flops / fused, "GFLOPS", unfused / fused, "ratio = unfused time / fused time"));
                report.add(new BenchRow("attention", name, "unfused-3-kernel", device.spec(), unfused / 1e6,
                        flops / unfused, "GFLOPS", Double.NaN, "scores -> softmax -> V, same device"));
            }
        }
    }

    private static double time(AttentionOp op, AttentionProblem p, Buffer q, Buffer k, Buffer v, Buffer out, int reps) {
        return Timing.medianNanos(1, reps, () -> op.run(p, q, k, v, out));
    }

    private static float[] random(SplittableRandom rnd, long n) {
        float[] a = new float[Math.toIntExact(n)];
        for (int i = 0; i < a.length; i++) a[i] = (float) rnd.nextDouble(-1, 1);
        return a;
    }
}
