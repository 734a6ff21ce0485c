package dev.offload.ops.blockq;

import dev.offload.cl.Buffer;
import dev.offload.device.OpenClDevice;
import dev.offload.ops.quant.Quantize;
import dev.offload.ops.quant.QuantizeReference;
import dev.offload.validate.CheckResult;
import dev.offload.validate.Compare;
import dev.offload.validate.GuardedOutput;
import dev.offload.validate.OpValidator;
import dev.offload.validate.ValidationOptions;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Validates the block-quantized linear against {@link BlockLinearReference} within {@link BlockLinearBound}: every
 * format over awkward shapes, with and without bias, outputs poisoned and guarded. Q8_0 and Q4_0: M in {1, 3, 17,
 * 64} (both kernel forms and partial tiles), K in {32, 96, 2080} (one block, fewer than a group of 4, groups plus a
 * tail), N in {1, 31, 97, 1000}. Q4_K and Q6_K (256-value super-blocks): M in {1, 7, 64} (the decode form, a
 * partial prefill tile, whole ones), K in {256, 768, 2304} (one super-block, an odd number, nine), the same N (odd,
 * partial tiles of 4 rows). Two more cases per format run float x through the device's per-block quantize first,
 * with NaN and infinities in it: the outputs they touch must be NaN as in the reference, the others within the
 * bound. And per format the fused launches, bit for bit against the plain one: three weights of one x in one launch
 * (blockq_linear_group: N = 97, 31, 31, the decode form; full runs add the prefill form, M = 17), and a residual
 * added in the product's launch (each output the plain launch's plus the residual, in float).
 *
 * <p>The GPU decode kernel (blockq_matvec_gpu) runs forced on every device, Q8_0 and Q4_0: with 16 lanes a row
 * (the GPU default) within the bound, M in {1, 3} (quick) and {1, 2, 4} x K in {32, 96, 2080} x N in {1, 31, 97,
 * 1000} (full); with 1 lane, the reference's order, bit for bit; and its non-finite, group and residual cases.
 * <p>Q8_0 and Q4_0 also run the prefill at M >= 16 (the AMX tiles where the device has them, amx_blockq.clh; VNNI
 * or portable elsewhere) at M = 16, 17, 33, 100 with N a whole panel, a few panels, and 2048 plus 5 tail rows:
 * within the bound everywhere and the reference's bits on the panel rows (what the VNNI and AMX panel paths
 * promise); quick runs take M = 33 x 2048 x 2053. A group and a residual case at M = 33 go with them.
 */
public final class BlockLinearValidator implements OpValidator {
    @Override public String op() { return "blockq"; }

    private record Case(BlockFormat format, int m, int k, int n, boolean bias) {
        String label() { return format + " " + m + "x" + k + "x" + n + " (MxKxN)" + (bias ? " bias" : ""); }
    }

    private static List<Case> cases(boolean quick) {
        List<Case> out = new ArrayList<>();
        for (BlockFormat f : BlockFormat.values()) {
            boolean sb = f.superBlocks();
            if (quick) {
                out.add(new Case(f, 1, sb ? 256 : 96, 31, true));
                out.add(new Case(f, sb ? 7 : 3, sb ? 2304 : 2080, 97, false));
                out.add(new Case(f, 17, sb ? 768 : 32, 1, true));
                continue;
            }
            int i = 0;
            for (int m : sb ? new int[] {1, 7, 64} : new int[] {1, 3, 17, 64}) {
                for (int k : sb ? new int[] {256, 768, 2304} : new int[] {32, 96, 2080}) {
                    for (int n : new int[] {1, 31, 97, 1000}) out.add(new Case(f, m, k, n, i++ % 2 == 0));
                }
            }
        }
        return out;
    }

    @Override
    public List<CheckResult> validate(OpenClDevice device, ValidationOptions options) {
        BlockMatmul matmul = new BlockMatmul(device);
        SplittableRandom rnd = new SplittableRandom(options.seed());
        List<CheckResult> out = new ArrayList<>();
        for (Case c : cases(options.quick())) out.add(check(matmul, c, rnd.split()));
        for (BlockFormat f : BlockFormat.values()) {
            boolean sb = f.superBlocks();
            out.add(nonFinite(matmul, new Case(f, 3, sb ? 256 : 96, 31, true), rnd.split()));
            if (!options.quick()) out.add(nonFinite(matmul, new Case(f, sb ? 7 : 17, sb ? 2304 : 2080, 97, false), rnd.split()));
            out.add(group(matmul, new Case(f, 1, sb ? 768 : 2080, 97, true), rnd.split()));
            if (!options.quick()) out.add(group(matmul, new Case(f, 17, sb ? 256 : 96, 97, false), rnd.split()));
            out.add(residual(matmul, new Case(f, 3, sb ? 512 : 160, 97, true), rnd.split()));
            if (sb) continue;
            List<Case> prefill = options.quick() ? List.of(new Case(f, 33, 2048, 2053, true))
                    : List.of(new Case(f, 16, 32, 16, true), new Case(f, 17, 64, 48, false), new Case(f, 33, 2048, 2053, true),
                            new Case(f, 100, 96, 2053, false));
            for (Case c : prefill) out.addAll(prefill(matmul, c, rnd.split()));
            out.add(group(matmul, new Case(f, 33, 96, 97, true), rnd.split()));
            out.add(residual(matmul, new Case(f, 33, 160, 97, false), rnd.split()));
        }
        gpuMatvec(device, options.quick(), rnd, out);
        return out;
    }

    /** blockq_matvec_gpu forced (see the class comment); labels say "gpu matvec" and the lanes. */
    private void gpuMatvec(OpenClDevice device, boolean quick, SplittableRandom rnd, List<CheckResult> out) {
        BlockMatmul lanes16 = new BlockMatmul(device, new BlockMatmul.GpuMatvec(16, 4));
        BlockMatmul lanes1 = new BlockMatmul(device, new BlockMatmul.GpuMatvec(1, 4));
        // Under the FPGA style the kernel does not apply (blockq_linear runs): the labels say so.
        boolean applies = lanes16.usesGpuMatvec(1, BlockFormat.Q8_0);
        String tag16 = applies ? "gpu matvec 16 lanes " : "(no gpu matvec in this style) ", tag1 = applies ? "gpu matvec 1 lane " : tag16;
        for (BlockFormat f : new BlockFormat[] {BlockFormat.Q8_0, BlockFormat.Q4_0}) {
            List<Case> cases = new ArrayList<>();
            if (quick) {
                cases.add(new Case(f, 1, 96, 31, true));
                cases.add(new Case(f, 3, 2080, 97, false));
            } else {
                int i = 0;
                for (int m : new int[] {1, 2, 4}) {
                    for (int k : new int[] {32, 96, 2080}) {
                        for (int n : new int[] {1, 31, 97, 1000}) cases.add(new Case(f, m, k, n, i++ % 2 == 0));
                    }
                }
            }
            for (Case c : cases) out.add(check(lanes16, c, rnd.split(), tag16));
            out.add(exact(lanes1, new Case(f, 1, 2080, 97, true), rnd.split(), tag1));
            out.add(nonFinite(lanes16, new Case(f, 3, 96, 31, true), rnd.split(), tag16));
            out.add(group(lanes16, new Case(f, 1, 2080, 97, true), rnd.split(), tag16));
            out.add(residual(lanes16, new Case(f, 3, 160, 97, true), rnd.split(), tag16));
        }
    }

    /**
     * The prefill form into a guarded output: within the bound, and the reference's bits on the panel rows (the first
     * N / 16 * 16 weight rows).
     */
    private List<CheckResult> prefill(BlockMatmul matmul, Case c, SplittableRandom rnd) {
        OpenClDevice device = matmul.device();
        byte[] x = RandomBlocks.activations(c.m(), c.k(), rnd);
        float[] dx = RandomBlocks.scales(c.m() * c.k() / BlockFormat.BLOCK, rnd);
        String path = matmul.tile(c.m(), c.format()).amxRows() > 0 ? "AMX prefill" : "prefill";
        try (Arena arena = Arena.ofShared()) {
            BlockMatrix w = RandomBlocks.weight(c.format(), c.n(), c.k(), rnd, arena);
            float[] bias = c.bias() ? bias(c.n(), rnd) : null;
            float[] want = BlockLinearReference.linear(x, dx, c.m(), w, bias);
            double[] bound = BlockLinearBound.bounds(x, dx, c.m(), w, bias);
            try (BlockMatmul.DeviceWeight dw = matmul.upload(w); Buffer xb = device.upload(x); Buffer db = device.upload(dx);
                 Buffer bb = bias == null ? null : device.upload(bias); GuardedOutput y = GuardedOutput.floats(device, c.m() * c.n())) {
                matmul.run(xb, db, c.m(), dw, bb, y.buffer());
                float[] got = y.readFloats();
                int panelRows = c.n() / 16 * 16;
                int[] wantBits = new int[c.m() * panelRows], gotBits = new int[wantBits.length];
                for (int r = 0; r < c.m(); r++) {
                    for (int j = 0; j < panelRows; j++) {
                        wantBits[r * panelRows + j] = Float.floatToRawIntBits(want[r * c.n() + j]);
                        gotBits[r * panelRows + j] = Float.floatToRawIntBits(got[r * c.n() + j]);
                    }
                }
                boolean guards = y.guardsIntact();
                return List.of(BlockLinearBound.compare(op(), c.label() + " " + path, device.spec(), want, got, bound, guards),
                        Compare.exact(op(), c.label() + " " + path + ", panel rows = the reference [bits]", device.spec(), wantBits, gotBits, guards));
            }
        }
    }

    /** The reference's floats bit for bit, into a guarded output (the single-lane GPU kernel sums in its order). */
    private CheckResult exact(BlockMatmul matmul, Case c, SplittableRandom rnd, String tag) {
        OpenClDevice device = matmul.device();
        byte[] x = RandomBlocks.activations(c.m(), c.k(), rnd);
        float[] dx = RandomBlocks.scales(c.m() * c.k() / BlockFormat.BLOCK, rnd);
        try (Arena arena = Arena.ofShared()) {
            BlockMatrix w = RandomBlocks.weight(c.format(), c.n(), c.k(), rnd, arena);
            float[] bias = c.bias() ? bias(c.n(), rnd) : null;
            float[] want = BlockLinearReference.linear(x, dx, c.m(), w, bias);
            try (BlockMatmul.DeviceWeight dw = matmul.upload(w); Buffer xb = device.upload(x); Buffer db = device.upload(dx);
                 Buffer bb = bias == null ? null : device.upload(bias); GuardedOutput y = GuardedOutput.floats(device, c.m() * c.n())) {
                matmul.run(xb, db, c.m(), dw, bb, y.buffer());
                float[] got = y.readFloats();
                int[] wb = new int[want.length], gb = new int[want.length];
                for (int i = 0; i < want.length; i++) {
                    wb[i] = Float.floatToRawIntBits(want[i]);
                    gb[i] = Float.floatToRawIntBits(got[i]);
                }
                return Compare.exact(op(), tag + c.label() + " = reference [bits]", device.spec(), wb, gb, y.guardsIntact());
            }
        }
    }

    /** Three weights (N = c.n, 31, 31) of one x in one launch: each into a guarded output, the plain launch's bits. */
    private CheckResult group(BlockMatmul matmul, Case c, SplittableRandom rnd) { return group(matmul, c, rnd, ""); }

    private CheckResult group(BlockMatmul matmul, Case c, SplittableRandom rnd, String tag) {
        OpenClDevice device = matmul.device();
        byte[] x = RandomBlocks.activations(c.m(), c.k(), rnd);
        float[] dx = RandomBlocks.scales(c.m() * c.k() / BlockFormat.BLOCK, rnd);
        int[] ns = {c.n(), 31, 31};
        List<AutoCloseable> open = new ArrayList<>();
        try (Arena arena = Arena.ofShared(); Buffer xb = device.upload(x); Buffer db = device.upload(dx)) {
            List<BlockMatmul.Product> products = new ArrayList<>();
            List<GuardedOutput> ys = new ArrayList<>();
            for (int n : ns) {
                BlockMatmul.DeviceWeight w = matmul.upload(RandomBlocks.weight(c.format(), n, c.k(), rnd, arena));
                open.add(w);
                Buffer bias = c.bias() ? device.upload(bias(n, rnd)) : null;
                if (bias != null) open.add(bias);
                GuardedOutput y = GuardedOutput.floats(device, c.m() * n);
                open.add(y);
                ys.add(y);
                products.add(new BlockMatmul.Product(w, bias, y.buffer()));
            }
            matmul.run(xb, db, c.m(), products);
            List<Integer> want = new ArrayList<>(), got = new ArrayList<>();
            boolean guards = true;
            for (int i = 0; i < ns.length; i++) {
                BlockMatmul.Product p = products.get(i);
                try (Buffer alone = device.context().createBuffer(4L * c.m() * ns[i])) {
                    matmul.run(xb, db, c.m(), p.weight(), p.bias(), alone);
                    for (float v : device.readFloats(alone, c.m() * ns[i])) want.add(Float.floatToRawIntBits(v));
                }
                for (float v : ys.get(i).readFloats()) got.add(Float.floatToRawIntBits(v));
                guards &= ys.get(i).guardsIntact();
            }
            return Compare.exact(op(), tag + c.label().replace("x" + c.n() + " ", "x(" + c.n() + "+31+31) ") + " one launch = each weight's own [bits]",
                    device.spec(), want.stream().mapToInt(Integer::intValue).toArray(), got.stream().mapToInt(Integer::intValue).toArray(), guards);
        } finally {
            closeAll(open);
        }
    }

    /** y = residual + (x W^T + bias) in one launch, into a guarded output: the plain launch's floats plus the residual. */
    private CheckResult residual(BlockMatmul matmul, Case c, SplittableRandom rnd) { return residual(matmul, c, rnd, ""); }

    private CheckResult residual(BlockMatmul matmul, Case c, SplittableRandom rnd, String tag) {
        OpenClDevice device = matmul.device();
        byte[] x = RandomBlocks.activations(c.m(), c.k(), rnd);
        float[] dx = RandomBlocks.scales(c.m() * c.k() / BlockFormat.BLOCK, rnd), r = new float[c.m() * c.n()];
        for (int i = 0; i < r.length; i++) r[i] = (float) (rnd.nextGaussian() * 8);
        try (Arena arena = Arena.ofShared(); Buffer xb = device.upload(x); Buffer db = device.upload(dx); Buffer rb = device.upload(r);
             BlockMatmul.DeviceWeight w = matmul.upload(RandomBlocks.weight(c.format(), c.n(), c.k(), rnd, arena));
             Buffer bias = c.bias() ? device.upload(bias(c.n(), rnd)) : null;
             Buffer alone = device.context().createBuffer(4L * r.length); GuardedOutput y = GuardedOutput.floats(device, r.length)) {
            matmul.run(xb, db, c.m(), w, bias, alone);
            matmul.run(xb, db, c.m(), List.of(new BlockMatmul.Product(w, bias, rb, y.buffer())));
            float[] plain = device.readFloats(alone, r.length), fused = y.readFloats();
            int[] want = new int[r.length], got = new int[r.length];
            for (int i = 0; i < r.length; i++) {
                want[i] = Float.floatToRawIntBits(r[i] + plain[i]);
                got[i] = Float.floatToRawIntBits(fused[i]);
            }
            return Compare.exact(op(), tag + c.label() + " + residual = product, then add [bits]", device.spec(), want, got, y.guardsIntact());
        }
    }

    private static void closeAll(List<AutoCloseable> open) {
        for (AutoCloseable c : open) {
            try {
                c.close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }

    private CheckResult check(BlockMatmul matmul, Case c, SplittableRandom rnd) { return check(matmul, c, rnd, ""); }

    private CheckResult check(BlockMatmul matmul, Case c, SplittableRandom rnd, String tag) {
        byte[] x = RandomBlocks.activations(c.m(), c.k(), rnd);
        float[] dx = RandomBlocks.scales(c.m() * c.k() / BlockFormat.BLOCK, rnd);
        try (Arena arena = Arena.ofShared()) {   // shared: the reference runs its rows in parallel
            BlockMatrix w = RandomBlocks.weight(c.format(), c.n(), c.k(), rnd, arena);
            float[] bias = c.bias() ? bias(c.n(), rnd) : null;
            return run(matmul, tag + c.label(), x, dx, c.m(), w, bias, null);
        }
    }

    /** Float x with a NaN, +inf and -inf in three blocks, quantized on the device, then the linear. */
    private CheckResult nonFinite(BlockMatmul matmul, Case c, SplittableRandom rnd) { return nonFinite(matmul, c, rnd, ""); }

    private CheckResult nonFinite(BlockMatmul matmul, Case c, SplittableRandom rnd, String tag) {
        float[] xf = new float[c.m() * c.k()];
        for (int i = 0; i < xf.length; i++) xf[i] = (float) rnd.nextGaussian();
        xf[5] = Float.NaN;
        xf[c.k() + 40] = Float.POSITIVE_INFINITY;
        xf[xf.length - 1] = Float.NEGATIVE_INFINITY;
        QuantizeReference.Quantized q = QuantizeReference.perBlockInt8(xf, c.m(), c.k());
        try (Arena arena = Arena.ofShared()) {   // shared: the reference runs its rows in parallel
            BlockMatrix w = RandomBlocks.weight(c.format(), c.n(), c.k(), rnd, arena);
            float[] bias = c.bias() ? bias(c.n(), rnd) : null;
            return run(matmul, tag + c.label() + " x with NaN, +inf, -inf (quantized on the device)", q.data(), q.scales(), c.m(), w, bias, xf);
        }
    }

    /** Runs into a guarded output; with {@code floatX}, x and its scales come from the device's quantize kernel. */
    private CheckResult run(BlockMatmul matmul, String label, byte[] x, float[] dx, int m, BlockMatrix w, float[] bias, float[] floatX) {
        OpenClDevice device = matmul.device();
        float[] want = BlockLinearReference.linear(x, dx, m, w, bias);
        double[] bound = BlockLinearBound.bounds(x, dx, m, w, bias);
        boolean quantizeHere = floatX != null;
        try (BlockMatmul.DeviceWeight dw = matmul.upload(w);
             Buffer xb = quantizeHere ? device.context().createBuffer(x.length) : device.upload(x);
             Buffer db = quantizeHere ? device.context().createBuffer(4L * dx.length) : device.upload(dx);
             Buffer bb = bias == null ? null : device.upload(bias);
             GuardedOutput y = GuardedOutput.floats(device, m * w.rows())) {
            if (quantizeHere) {
                try (Buffer xf = device.upload(floatX); Buffer zero = device.context().createBuffer(4)) {
                    new Quantize(device).enqueuePerBlockInt8(xf, m, w.cols(), xb, db, zero, (k, global, local) -> device.launch(k, global, local).close());
                    device.queue().finish();
                }
            }
            matmul.run(xb, db, m, dw, bb, y.buffer());
            return BlockLinearBound.compare(op(), label, device.spec(), want, y.readFloats(), bound, y.guardsIntact());
        }
    }

    private static float[] bias(int n, SplittableRandom rnd) {
        float[] b = new float[n];
        for (int i = 0; i < n; i++) b[i] = (float) rnd.nextDouble(-1, 1);
        return b;
    }
}
