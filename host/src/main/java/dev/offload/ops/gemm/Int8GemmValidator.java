package dev.offload.ops.gemm;

import dev.offload.cl.Buffer;
import dev.offload.device.KernelStyle;
import dev.offload.device.OpenClDevice;
import dev.offload.ops.quant.QuantType;
import dev.offload.validate.CheckResult;
import dev.offload.validate.Compare;
import dev.offload.validate.GuardedOutput;
import dev.offload.validate.OpValidator;
import dev.offload.validate.ValidationOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Validates the INT8 GEMM against {@link Int8GemmReference}: every int8/uint8 combination, scalar and
 * per-row/per-column zero points, all epilogues and activations, and awkward shapes (1x1x1, primes,
 * decode-like 1x4096x4096, N=1, K=20000). Outputs are guarded and poisoned.
 *
 * <p>First the device's own configuration ({@link Int8Gemm#on}), then the tiled family's
 * {@link TiledGemmConfig#validationSets} on every device that takes them (not FPGA style): M in {1, 7, 33} x N in {5, 67}
 * x K in {1, 31, 100, 384} in int32 per set, one dequantize and one requantize case per set, and every activation
 * with the first set (quick: three sets, two int32 shapes and one dequantize or requantize case each). The device's
 * configuration also runs groups of two or three weights of one A ({@link Int8Gemm#enqueueDequantizeGroup}, an encoder's
 * Q, K and V), each output judged bit for bit against its part run alone.
 */
public final class Int8GemmValidator implements OpValidator {
    @Override public String op() { return "int8_gemm"; }

    /** Which epilogue a case runs: int32, dequantize with an activation (and bias), or requantize to a type. */
    private record Case(int m, int k, int n, QuantType aType, QuantType bType, boolean perChannel,
                        String epilogue, Activation activation, QuantType outType) {
        static Case int32(int m, int k, int n, QuantType a, QuantType b, boolean perChannel) {
            return new Case(m, k, n, a, b, perChannel, "int32", null, null);
        }

        String label() {
            String e = switch (epilogue) {
                case "dequantize" -> "dequantize " + activation.name().toLowerCase(Locale.ROOT);
                case "requantize" -> "requantize to " + outType.name().toLowerCase(Locale.ROOT);
                default -> "int32";
            };
            return m + "x" + k + "x" + n + " (MxKxN) " + name(aType) + "*" + name(bType)
                    + (perChannel ? " zp per row/col " : " zp scalar ") + e;
        }

        private static String name(QuantType t) { return t == QuantType.INT8 ? "s8" : "u8"; }
    }

    private static List<Case> cases(boolean quick) {
        QuantType s8 = QuantType.INT8, u8 = QuantType.UINT8;
        List<Case> cases = new ArrayList<>();
        if (quick) {
            cases.add(Case.int32(1, 1, 1, s8, s8, false));
            cases.add(Case.int32(7, 29, 13, u8, s8, true));
            cases.add(new Case(5, 40, 9, u8, s8, true, "dequantize", Activation.GELU_ERF, null));
            cases.add(new Case(13, 64, 29, u8, s8, false, "requantize", null, u8));
            return cases;
        }
        int[][] shapes = {{1, 1, 1}, {7, 29, 13}, {1, 4096, 4096}, {37, 1000, 1}, {8, 20000, 16}, {64, 384, 96},
                {33, 65, 129}, {4, 16, 4}, {45, 200, 70}}; // the last: AMX's second row tile partial, K tail, N tail
        QuantType[][] combos = {{s8, s8}, {u8, s8}, {s8, u8}, {u8, u8}};
        for (int i = 0; i < shapes.length; i++) {
            int[] s = shapes[i];
            QuantType[] t = combos[i % combos.length], t2 = combos[(i + 1) % combos.length];
            cases.add(Case.int32(s[0], s[1], s[2], t[0], t[1], false));
            cases.add(Case.int32(s[0], s[1], s[2], t2[0], t2[1], true));
        }
        for (Activation a : Activation.values()) cases.add(new Case(19, 77, 21, u8, s8, true, "dequantize", a, null));
        cases.add(new Case(5, 33, 7, s8, s8, false, "dequantize", Activation.NONE, null));
        cases.add(new Case(13, 64, 29, u8, s8, false, "requantize", null, u8));
        cases.add(new Case(13, 64, 29, s8, u8, true, "requantize", null, s8));
        return cases;
    }

    /** The tiled family's cases for its {@code index}-th validation set: shapes that are not multiples of any tile. */
    private static List<Case> tiledCases(int index, boolean quick) {
        QuantType s8 = QuantType.INT8, u8 = QuantType.UINT8;
        QuantType[][] combos = {{s8, s8}, {u8, s8}, {s8, u8}, {u8, u8}};
        Activation[] activations = Activation.values();
        List<Case> cases = new ArrayList<>();
        int[][] shapes = quick ? new int[][] {{7, 100, 67}, {1, 31, 5}} : null;
        if (shapes == null) {
            List<int[]> grid = new ArrayList<>();
            for (int m : new int[] {1, 7, 33}) for (int n : new int[] {5, 67}) for (int k : new int[] {1, 31, 100, 384}) grid.add(new int[] {m, k, n});
            shapes = grid.toArray(int[][]::new);
        }
        for (int i = 0; i < shapes.length; i++) {
            QuantType[] t = combos[(i + index) % combos.length];
            cases.add(Case.int32(shapes[i][0], shapes[i][1], shapes[i][2], t[0], t[1], (i + index) % 2 == 0));
        }
        // Quick: one epilogue per set, dequantize and requantize in turn (each epilogue is a build of its own).
        if (!quick || index % 2 == 0) cases.add(new Case(33, 100, 67, u8, s8, true, "dequantize", activations[index % activations.length], null));
        if (!quick || index % 2 == 1) cases.add(new Case(7, 384, 67, s8, u8, index % 2 == 0, "requantize", null, index % 2 == 0 ? s8 : u8));
        if (index == 0 && !quick) {
            for (Activation a : activations) cases.add(new Case(33, 31, 5, s8, s8, false, "dequantize", a, null));
        }
        return cases;
    }

    @Override
    public List<CheckResult> validate(OpenClDevice device, ValidationOptions options) {
        Int8Gemm gemm = Int8Gemm.on(device);
        SplittableRandom rnd = new SplittableRandom(options.seed());
        List<CheckResult> out = new ArrayList<>();
        for (Case c : cases(options.quick())) out.add(check(gemm, c, rnd.split(), ""));
        int[][] groups = options.quick() ? new int[][] {{13, 37, 40, 24, 56}} : new int[][] {{13, 37, 40, 24, 56}, {128, 384, 384, 384, 384},
                {1, 64, 32, 48}, {5, 100, 16, 16, 16}, {33, 1000, 96, 8}};
        for (int[] g : groups) out.add(group(gemm, rnd.split(), g[0], g[1], java.util.Arrays.copyOfRange(g, 2, g.length)));
        if (device.kernelStyle() == KernelStyle.FPGA) return out; // the tiled family does not apply (int8_gemm_tiled.cl's header)
        List<TiledGemmConfig> sets = TiledGemmConfig.validationSets();
        if (options.quick()) sets = List.of(sets.get(0), sets.get(6), sets.get(7)); // default (dot), SA=SB=0 and VW 4/8 (portable)
        for (int i = 0; i < sets.size(); i++) {
            TiledGemmConfig t = sets.get(i);
            if (!t.runsOn(device.info())) continue;
            Int8Gemm tiled = new Int8Gemm(device, t, false);
            for (Case c : tiledCases(i, options.quick())) out.add(check(tiled, c, rnd.split(), t.brief() + ": "));
        }
        return out;
    }

    private CheckResult check(Int8Gemm gemm, Case c, SplittableRandom rnd, String prefix) {
        OpenClDevice device = gemm.device();
        Int8Matrix a = matrix(rnd, c.aType(), c.m(), c.k()), b = matrix(rnd, c.bType(), c.k(), c.n());
        ZeroPoint za = c.perChannel() ? ZeroPoint.perRow(values(rnd, c.m(), c.aType())) : ZeroPoint.scalar(values(rnd, 1, c.aType())[0]);
        ZeroPoint zb = c.perChannel() ? ZeroPoint.perColumn(values(rnd, c.n(), c.bType())) : ZeroPoint.scalar(values(rnd, 1, c.bType())[0]);
        int[] exact = Int8GemmReference.matmulInteger(a, za, b, zb);
        int count = c.m() * c.n();
        String shape = prefix + c.label();
        try (PackedWeights w = gemm.pack(b, zb); Buffer ab = device.upload(a.data())) {
            switch (c.epilogue()) {
                case "dequantize" -> {
                    Epilogue.Dequantize d = dequantize(rnd, c, exact);
                    try (GuardedOutput g = GuardedOutput.floats(device, count)) {
                        gemm.run(ab, a.type(), c.m(), za, w, d, g.buffer());
                        return Compare.relative(op(), shape, device.spec(), Int8GemmReference.dequantize(exact, c.m(), c.n(), d),
                                g.readFloats(), GemmBounds.dequantize(c.activation()), g.guardsIntact());
                    }
                }
                case "requantize" -> {
                    Epilogue.Requantize r = requantize(rnd, c, exact);
                    try (GuardedOutput g = GuardedOutput.bytes(device, count)) {
                        gemm.run(ab, a.type(), c.m(), za, w, r, g.buffer());
                        return Compare.exact(op(), shape, device.spec(), Int8GemmReference.requantize(exact, c.m(), c.n(), r),
                                g.readBytes(), g.guardsIntact());
                    }
                }
                default -> {
                    try (GuardedOutput g = GuardedOutput.ints(device, count)) {
                        gemm.run(ab, a.type(), c.m(), za, w, Epilogue.INT32, g.buffer());
                        return Compare.exact(op(), shape, device.spec(), exact, g.readInts(), g.guardsIntact());
                    }
                }
            }
        }
    }

    /**
     * {@link Int8Gemm#enqueueDequantizeGroup} of uint8 A (per-row scales and zero points) and 2 or 3 weights of widths
     * {@code ns} (part 0 without zero points, the others with per-column ones: the row-sum pass), bias and GELU: each
     * guarded output must be the bits {@link Int8Gemm#enqueueDequantize} gives its part alone (which the cases above
     * judge against the reference).
     */
    private CheckResult group(Int8Gemm gemm, SplittableRandom rnd, int m, int k, int[] ns) {
        OpenClDevice device = gemm.device();
        Int8Matrix a = matrix(rnd, QuantType.UINT8, m, k);
        float[] sa = new float[m];
        for (int i = 0; i < m; i++) sa[i] = (float) rnd.nextDouble(1e-3, 2e-3);
        List<AutoCloseable> owned = new ArrayList<>();
        try {
            Buffer ab = keep(owned, device.upload(a.data())), sab = keep(owned, device.upload(sa)), zab = keep(owned, device.upload(values(rnd, m, QuantType.UINT8)));
            Buffer rowSums = keep(owned, device.context().createBuffer(4L * m));
            Int8Gemm.DeviceActivation act = new Int8Gemm.DeviceActivation(ab, QuantType.UINT8, m, sab, zab, true);
            List<Int8Gemm.GroupPart> parts = new ArrayList<>();
            List<GuardedOutput> outs = new ArrayList<>();
            int[] want = new int[0];
            for (int i = 0; i < ns.length; i++) {
                int n = ns[i];
                ZeroPoint zb = i == 0 ? ZeroPoint.scalar(0) : ZeroPoint.perColumn(values(rnd, n, QuantType.INT8));
                PackedWeights w = keep(owned, gemm.pack(matrix(rnd, QuantType.INT8, k, n), zb));
                float[] sb = new float[n], bias = new float[n];
                for (int j = 0; j < n; j++) { sb[j] = (float) rnd.nextDouble(1e-3, 2e-3); bias[j] = (float) rnd.nextDouble(-1, 1); }
                Buffer sbb = keep(owned, device.upload(sb)), biasb = keep(owned, device.upload(bias));
                Buffer alone = keep(owned, device.context().createBuffer(4L * m * n));
                gemm.enqueueDequantize(act, w, sbb, biasb, Activation.GELU_ERF, alone, rowSums, direct(device));
                device.queue().finish();
                want = concat(want, bits(device.readFloats(alone, m * n)));
                GuardedOutput g = keep(owned, GuardedOutput.floats(device, m * n));
                outs.add(g);
                parts.add(new Int8Gemm.GroupPart(w, sbb, biasb, g.buffer()));
            }
            gemm.enqueueDequantizeGroup(act, parts, Activation.GELU_ERF, rowSums, direct(device));
            device.queue().finish();
            int[] got = new int[0];
            boolean guards = true;
            for (GuardedOutput g : outs) {
                got = concat(got, bits(g.readFloats()));
                guards &= g.guardsIntact();
            }
            String widths = String.join("+", java.util.Arrays.stream(ns).mapToObj(Integer::toString).toList());
            return Compare.exact(op(), "group " + m + "x" + k + "x(" + widths + ") u8*s8 dequantize gelu_erf, "
                    + (gemm.groupsInOneLaunch() ? "one launch" : "a launch per part") + " [bits = each part alone]", device.spec(), want, got, guards);
        } finally {
            for (AutoCloseable c : owned) {
                try {
                    c.close();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        }
    }

    private static dev.offload.device.KernelLauncher direct(OpenClDevice device) {
        return (k, global, local) -> device.launch(k, global, local).close();
    }

    private static <T extends AutoCloseable> T keep(List<AutoCloseable> owned, T c) {
        owned.add(c);
        return c;
    }

    private static int[] bits(float[] v) {
        int[] b = new int[v.length];
        for (int i = 0; i < v.length; i++) b[i] = Float.floatToIntBits(v[i]);
        return b;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    /** Scales that map the typical |C| to about 3, so the activations' curved parts are exercised. */
    private static Epilogue.Dequantize dequantize(SplittableRandom rnd, Case c, int[] exact) {
        double typical = Math.max(1, rms(exact));
        float[] sa = new float[c.m()], sb = new float[c.n()], bias = new float[c.n()];
        for (int i = 0; i < sa.length; i++) sa[i] = (float) (Math.sqrt(3 / typical) * rnd.nextDouble(0.5, 1.5));
        for (int j = 0; j < sb.length; j++) {
            sb[j] = (float) (Math.sqrt(3 / typical) * rnd.nextDouble(0.5, 1.5));
            bias[j] = (float) rnd.nextDouble(-1, 1);
        }
        boolean perTensor = c.aType() == c.bType(); // a mix of per-tensor and per-channel scales
        return perTensor ? new Epilogue.Dequantize(new float[] {sa[0]}, new float[] {sb[0]}, null, c.activation())
                : new Epilogue.Dequantize(sa, sb, bias, c.activation());
    }

    /** A scale that maps |C| to about 100: most outputs in range, some saturated. */
    private static Epilogue.Requantize requantize(SplittableRandom rnd, Case c, int[] exact) {
        float[] s = new float[c.n()];
        double typical = Math.max(1, rms(exact));
        for (int j = 0; j < s.length; j++) s[j] = (float) (100 / typical * rnd.nextDouble(0.5, 1.5));
        int zp = c.outType().min() + rnd.nextInt(256);
        return new Epilogue.Requantize(s, zp, c.outType());
    }

    private static double rms(int[] v) {
        double s = 0;
        for (int x : v) s += (double) x * x;
        return Math.sqrt(s / v.length);
    }

    private static Int8Matrix matrix(SplittableRandom rnd, QuantType type, int rows, int cols) {
        byte[] d = new byte[rows * cols];
        rnd.nextBytes(d);
        return new Int8Matrix(type, rows, cols, d);
    }

    private static int[] values(SplittableRandom rnd, int n, QuantType type) {
        int[] v = new int[n];
        for (int i = 0; i < n; i++) v[i] = type.min() + rnd.nextInt(256);
        return v;
    }
}
