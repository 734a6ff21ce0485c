package dev.offload.ops.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.offload.cl.Buffer;
import dev.offload.device.KernelLauncher;
import dev.offload.device.OpenClDevice;
import dev.offload.testing.CpuDeviceFixture;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Both ONNX Runtime attention kernels against {@link AttentionReference#onnxRuntime}, bit for bit: attention_onnx_rows
 * (what CPUs run) and keys_to_columns + attention_onnx (what other devices run, exercised here on the CPU device),
 * with GQA, key lengths of 0, partial and full, and no lengths at all.
 */
class OnnxAttentionTest {
    @RegisterExtension static final CpuDeviceFixture CL = new CpuDeviceFixture();

    private static float[] floats(SplittableRandom rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (rnd.nextDouble() * 4 - 2);
        return a;
    }

    @Test
    void bothKernelsGiveTheReferenceBits() {
        SplittableRandom rnd = new SplittableRandom(31);
        OpenClDevice cl = CL.device();
        OnnxAttention attention = new OnnxAttention(cl);
        KernelLauncher launcher = (k, global, local) -> cl.launch(k, global, local).close();
        // batch, H, Hkv, D, Sq, Skv: key counts and head sizes on both sides of the kernels' 8-wide unrolling, and
        // MiniLM's head (D 64, 128 keys)
        int[][] shapes = {{3, 4, 2, 8, 17, 17}, {2, 2, 2, 16, 5, 5}, {1, 6, 3, 12, 33, 33}, {2, 3, 1, 13, 23, 23}, {2, 2, 2, 64, 128, 128}};
        for (int[] sh : shapes) {
            int batch = sh[0], heads = sh[1], kvHeads = sh[2], d = sh[3], sq = sh[4], skv = sh[5];
            float divisor = (float) Math.sqrt(d);
            float[] q = floats(rnd, batch * sq * heads * d), k = floats(rnd, batch * skv * kvHeads * d), v = floats(rnd, batch * skv * kvHeads * d);
            int[] lengths = new int[batch];
            for (int b = 0; b < batch; b++) lengths[b] = b == 0 ? skv : b == 1 ? 0 : skv / 2;
            for (int[] len : new int[][] {lengths, null}) {
                float[] want = AttentionReference.onnxRuntime(heads, kvHeads, d, divisor, q, k, v, len, batch, sq, skv);
                OnnxAttention.Shape s = new OnnxAttention.Shape(batch, heads, kvHeads, d, sq, skv, divisor);
                int skv16 = OnnxAttention.roundUp16(skv);
                try (Buffer qb = cl.upload(q); Buffer kb = cl.upload(k); Buffer vb = cl.upload(v);
                     Buffer lb = cl.upload(len != null ? len : new int[1]);
                     Buffer out = cl.context().createBuffer(4L * want.length);
                     Buffer lanes = cl.context().createBuffer(4L * batch * heads * OnnxAttention.roundUp16(sq) * (skv + d));
                     Buffer columns = cl.context().createBuffer(4L * batch * kvHeads * d * skv16);
                     Buffer scores = cl.context().createBuffer(4L * batch * heads * sq * skv16)) {
                    String what = java.util.Arrays.toString(sh) + (len == null ? " no lengths" : " lengths " + java.util.Arrays.toString(len));
                    cl.queue().fill(out, new byte[] {-1, -1, -1, -1}, 0, 4L * want.length).close();   // NaN poison
                    attention.enqueueRowLanes(s, qb, kb, vb, lb, len != null, out, lanes, launcher);
                    assertBits(want, cl.readFloats(out, want.length), "attention_onnx_rows " + what);
                    cl.queue().fill(out, new byte[] {-1, -1, -1, -1}, 0, 4L * want.length).close();   // NaN poison
                    attention.enqueueRows(s, qb, kb, vb, lb, len != null, out, columns, scores, launcher);
                    assertBits(want, cl.readFloats(out, want.length), "attention_onnx " + what);
                }
            }
        }
    }

    private static void assertBits(float[] want, float[] got, String what) {
        for (int i = 0; i < want.length; i++) {
            assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(got[i]), what + ": element " + i + " " + want[i] + " vs " + got[i]);
        }
    }
}
