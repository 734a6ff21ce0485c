package dev.offload.model.onnx;

import dev.offload.model.UnsupportedModelException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Infers every value's shape for one concrete input shape, and computes the values of the small shape
 * subgraphs (Shape, Gather, Unsqueeze, Concat, Slice, Cast, Reshape and arithmetic on constants) that
 * exporters emit to build Reshape targets and position ids. The importer then matches on what those
 * subgraphs evaluate to, not on what their nodes are called.
 */
public final class ShapeFolder {
    /** Constant tensors up to this many elements are folded; bigger ones (weights) are left to the matcher. */
    private static final int FOLD_LIMIT = 1 << 16;

    private final OnnxModel model;
    private final Map<String, long[]> shapes = new HashMap<>();
    private final Map<String, OnnxTensor> values = new HashMap<>();
    private final List<OnnxNode> folded = new ArrayList<>();

    /** Runs inference with each graph input given its concrete shape. */
    public ShapeFolder(OnnxModel model, Map<String, long[]> inputShapes) {
        this.model = model;
        for (var e : model.constants().entrySet()) {
            shapes.put(e.getKey(), e.getValue().shape());
            values.put(e.getKey(), e.getValue());
        }
        shapes.putAll(inputShapes);
        for (OnnxNode n : model.nodes()) infer(n);
    }

    public long[] shape(String value) { return shapes.get(value); }

    /** The constant (or folded) value, or null when it depends on the inputs' contents. */
    public OnnxTensor value(String value) { return values.get(value); }

    public boolean isConstant(String value) { return values.containsKey(value); }

    /** Nodes whose outputs were all computed at import: they do no work at run time. */
    public List<OnnxNode> foldedNodes() { return folded; }

    private UnsupportedModelException unsupported(OnnxNode n, String why) {
        return new UnsupportedModelException(model.source() + ": " + n + " (opset " + model.opset() + "): " + why);
    }

    private long[] in(OnnxNode n, int i) {
        long[] s = shapes.get(n.input(i));
        if (s == null) throw unsupported(n, "the shape of input '" + n.input(i) + "' is unknown");
        return s;
    }

    private void infer(OnnxNode n) {
        String op = n.opType();
        long[] out = switch (op) {
            case "Add", "Sub", "Mul", "Div", "Pow", "Equal", "Where" -> broadcast(n);
            case "Erf", "Sqrt", "Cast", "Softmax", "Relu", "Tanh", "Neg", "Exp", "Identity", "DequantizeLinear", "Sigmoid" -> in(n, 0);
            case "LayerNormalization" -> in(n, 0);
            case "DynamicQuantizeLinear" -> {
                shapes.put(n.outputs().get(1), new long[0]);
                shapes.put(n.outputs().get(2), new long[0]);
                yield in(n, 0);
            }
            case "MatMul", "MatMulInteger" -> matmul(n, in(n, 0), in(n, 1));
            case "MatMulNBits" -> {
                // A [..., K] times the N x K weight the attributes describe: [..., N].
                long[] a = in(n, 0).clone();
                a[a.length - 1] = n.attrInt("N", -1);
                yield a;
            }
            case "Gemm" -> throw unsupported(n, "Gemm is not supported (export with MatMul + Add)");
            case "Shape" -> new long[] {in(n, 0).length};
            case "Transpose" -> {
                long[] s = in(n, 0);
                long[] perm = n.attrInts("perm");
                long[] o = new long[s.length];
                for (int i = 0; i < s.length; i++) o[i] = s[perm == null ? s.length - 1 - i : (int) perm[i]];
                yield o;
            }
            case "Reshape" -> reshape(n, in(n, 0));
            case "Unsqueeze" -> unsqueeze(in(n, 0), unsqueezeAxes(n));
            case "ReduceMean" -> reduce(n, in(n, 0));
            case "Gather" -> {
                long[] d = in(n, 0), idx = in(n, 1);
                int axis = axis(n.attrInt("axis", 0), d.length);
                long[] o = new long[d.length - 1 + idx.length];
                int k = 0;
                for (int i = 0; i < axis; i++) o[k++] = d[i];
                for (long v : idx) o[k++] = v;
                for (int i = axis + 1; i < d.length; i++) o[k++] = d[i];
                yield o;
            }
            case "Concat" -> {
                long[] first = in(n, 0).clone();
                int axis = axis(n.attrInt("axis", 0), first.length);
                for (int i = 1; i < n.inputs().size(); i++) first[axis] += in(n, i)[axis];
                yield first;
            }
            case "Slice" -> slice(n, in(n, 0));
            default -> null;  // unknown ops: no shape; the matcher rejects them by name
        };
        if (out != null) shapes.put(n.output(), out);
        tryFold(n);
    }

    private void tryFold(OnnxNode n) {
        if (n.opType().equals("Shape")) {
            long[] s = in(n, 0);
            for (long d : s) if (d < 0) return;
            put(n, OnnxTensor.ofLongs(n.output(), OnnxType.INT64, new long[] {s.length}, s.clone()));
            return;
        }
        for (String i : n.inputs()) {
            if (i.isEmpty()) continue;
            OnnxTensor t = values.get(i);
            if (t == null || t.size() > FOLD_LIMIT) return;
        }
        OnnxTensor a = n.inputs().isEmpty() ? null : values.get(n.input(0));
        long[] outShape = shapes.get(n.output());
        OnnxTensor result = switch (n.opType()) {
            case "Gather" -> gather(n, a, values.get(n.input(1)), outShape);
            case "Unsqueeze", "Reshape", "Identity" -> new OnnxTensor(n.output(), a.type(), outShape, a.floats(), a.longs(), a.bytes());
            case "Cast" -> cast(n, a);
            case "Concat" -> concat(n, outShape);
            case "Slice" -> sliceValue(n, a, outShape);
            case "Add", "Sub", "Mul", "Div" -> arithmetic(n, a, values.get(n.input(1)), outShape);
            default -> null;
        };
        if (result != null) put(n, result);
    }

    private void put(OnnxNode n, OnnxTensor t) {
        values.put(n.output(), t);
        shapes.put(n.output(), t.shape());
        folded.add(n);
    }

    private static int axis(long a, int rank) { return (int) (a < 0 ? a + rank : a); }

    private long[] broadcast(OnnxNode n) {
        long[] o = new long[0];
        for (int i = 0; i < n.inputs().size(); i++) {
            long[] s = in(n, i);
            int r = Math.max(o.length, s.length);
            long[] m = new long[r];
            for (int k = 0; k < r; k++) {
                long x = k - (r - o.length) >= 0 ? o[k - (r - o.length)] : 1;
                long y = k - (r - s.length) >= 0 ? s[k - (r - s.length)] : 1;
                if (x != y && x != 1 && y != 1) throw unsupported(n, "shapes " + Arrays.toString(o) + " and " + Arrays.toString(s) + " do not broadcast");
                m[k] = x == 1 ? y : x;
            }
            o = m;
        }
        return o;
    }

    private long[] matmul(OnnxNode n, long[] a, long[] b) {
        if (a.length < 2 || b.length < 2) throw unsupported(n, "1-D MatMul operands are not supported");
        if (a[a.length - 1] != b[b.length - 2]) throw unsupported(n, "inner dimensions differ: " + Arrays.toString(a) + " x " + Arrays.toString(b));
        int r = Math.max(a.length, b.length);
        long[] o = new long[r];
        for (int k = 0; k < r - 2; k++) {
            long x = k - (r - a.length) >= 0 ? a[k - (r - a.length)] : 1;
            long y = k - (r - b.length) >= 0 ? b[k - (r - b.length)] : 1;
            o[k] = Math.max(x, y);
        }
        o[r - 2] = a[a.length - 2];
        o[r - 1] = b[b.length - 1];
        return o;
    }

    private long[] reshape(OnnxNode n, long[] s) {
        OnnxTensor target = values.get(n.input(1));
        if (target == null) throw unsupported(n, "its target shape is computed from data, not from shapes");
        long[] t = target.toLongs().clone();
        long total = OnnxTensor.elementCount(s), known = 1;
        int infer = -1;
        for (int i = 0; i < t.length; i++) {
            if (t[i] == 0) t[i] = s[i];
            if (t[i] == -1) infer = i; else known *= t[i];
        }
        if (infer >= 0) t[infer] = total / known;
        if (OnnxTensor.elementCount(t) != total) throw unsupported(n, "cannot reshape " + Arrays.toString(s) + " to " + Arrays.toString(target.toLongs()));
        return t;
    }

    private long[] unsqueezeAxes(OnnxNode n) {
        long[] axes = n.attrInts("axes");
        if (axes == null && n.inputs().size() > 1) {
            OnnxTensor a = values.get(n.input(1));
            if (a == null) throw unsupported(n, "its axes are not constant");
            axes = a.toLongs();
        }
        if (axes == null) throw unsupported(n, "no axes");
        return axes;
    }

    private static long[] unsqueeze(long[] s, long[] axes) {
        int r = s.length + axes.length;
        long[] o = new long[r];
        boolean[] isNew = new boolean[r];
        for (long a : axes) isNew[(int) (a < 0 ? a + r : a)] = true;
        for (int i = 0, k = 0; i < r; i++) o[i] = isNew[i] ? 1 : s[k++];
        return o;
    }

    private long[] reduce(OnnxNode n, long[] s) {
        long[] axes = n.attrInts("axes");
        if (axes == null && n.inputs().size() > 1) axes = values.get(n.input(1)).toLongs();
        boolean keep = n.attrInt("keepdims", 1) == 1;
        long[] o = s.clone();
        List<Long> kept = new ArrayList<>();
        for (int i = 0; i < s.length; i++) {
            boolean reduced = axes == null;
            if (axes != null) for (long a : axes) if (axis(a, s.length) == i) reduced = true;
            if (reduced) o[i] = 1; else kept.add(s[i]);
        }
        return keep ? o : kept.stream().mapToLong(Long::longValue).toArray();
    }

    private long[] slice(OnnxNode n, long[] s) {
        if (n.inputs().size() < 3) throw unsupported(n, "Slice with attributes (opset < 10) is not supported");
        OnnxTensor starts = values.get(n.input(1)), ends = values.get(n.input(2));
        OnnxTensor axesT = n.inputs().size() > 3 && !n.input(3).isEmpty() ? values.get(n.input(3)) : null;
        OnnxTensor steps = n.inputs().size() > 4 && !n.input(4).isEmpty() ? values.get(n.input(4)) : null;
        if (starts == null || ends == null) throw unsupported(n, "its bounds are not constant");
        long[] o = s.clone();
        for (int i = 0; i < starts.size(); i++) {
            int ax = axes(axesT, i, s.length);
            long st = steps == null ? 1 : steps.toLongs()[i];
            if (st != 1) throw unsupported(n, "steps other than 1 are not supported");
            long[] r = sliceRange(starts.toLongs()[i], ends.toLongs()[i], s[ax]);
            o[ax] = r[1] - r[0];
        }
        return o;
    }

    private static int axes(OnnxTensor axesT, int i, int rank) { return axesT == null ? i : axis(axesT.toLongs()[i], rank); }

    private static long[] sliceRange(long start, long end, long dim) {
        if (start < 0) start += dim;
        if (end < 0) end += dim;
        start = Math.clamp(start, 0, dim);
        end = Math.clamp(end, 0, dim);
        return new long[] {start, Math.max(start, end)};
    }

    private OnnxTensor sliceValue(OnnxNode n, OnnxTensor a, long[] outShape) {
        if (a.longs() == null) return null;
        long[] s = a.shape();
        OnnxTensor starts = values.get(n.input(1));
        OnnxTensor axesT = n.inputs().size() > 3 && !n.input(3).isEmpty() ? values.get(n.input(3)) : null;
        long[] begin = new long[s.length];
        for (int i = 0; i < starts.size(); i++) {
            int ax = axes(axesT, i, s.length);
            begin[ax] = sliceRange(starts.toLongs()[i], values.get(n.input(2)).toLongs()[i], s[ax])[0];
        }
        long[] out = new long[Math.toIntExact(OnnxTensor.elementCount(outShape))];
        long[] idx = new long[s.length];
        for (int o = 0; o < out.length; o++) {
            long rem = o, src = 0;
            for (int d = s.length - 1; d >= 0; d--) { idx[d] = rem % outShape[d]; rem /= outShape[d]; }
            for (int d = 0; d < s.length; d++) src = src * s[d] + begin[d] + idx[d];
            out[o] = a.longs()[(int) src];
        }
        return OnnxTensor.ofLongs(n.output(), a.type(), outShape, out);
    }

    private OnnxTensor gather(OnnxNode n, OnnxTensor data, OnnxTensor idx, long[] outShape) {
        if (data.longs() == null || data.rank() != 1) return null;
        long[] out = new long[idx.size()];
        long[] ix = idx.toLongs();
        for (int i = 0; i < out.length; i++) out[i] = data.longs()[(int) (ix[i] < 0 ? ix[i] + data.size() : ix[i])];
        return OnnxTensor.ofLongs(n.output(), data.type(), outShape, out);
    }

    private OnnxTensor cast(OnnxNode n, OnnxTensor a) {
        OnnxType to = OnnxType.of((int) n.attrInt("to", 0), n.toString());
        return switch (to) {
            case FLOAT -> OnnxTensor.ofFloats(n.output(), a.shape(), a.toFloats());
            case INT64, INT32 -> {
                long[] v = a.floats() != null ? java.util.stream.IntStream.range(0, a.size()).mapToLong(i -> (long) a.floats()[i]).toArray() : a.toLongs();
                yield OnnxTensor.ofLongs(n.output(), to, a.shape(), v);
            }
            default -> null;
        };
    }

    private OnnxTensor concat(OnnxNode n, long[] outShape) {
        if (outShape.length != 1) return null;
        long[] out = new long[(int) outShape[0]];
        int k = 0;
        for (String i : n.inputs()) {
            OnnxTensor t = values.get(i);
            if (t.longs() == null) return null;
            for (long v : t.longs()) out[k++] = v;
        }
        return OnnxTensor.ofLongs(n.output(), values.get(n.input(0)).type(), outShape, out);
    }

    private OnnxTensor arithmetic(OnnxNode n, OnnxTensor a, OnnxTensor b, long[] outShape) {
        int size = Math.toIntExact(OnnxTensor.elementCount(outShape));
        if (a.size() != size && a.size() != 1 || b.size() != size && b.size() != 1) return null;  // general broadcast: not needed
        String op = n.opType();
        if (a.longs() != null && b.longs() != null) {
            long[] o = new long[size];
            for (int i = 0; i < size; i++) {
                long x = a.longs()[a.size() == 1 ? 0 : i], y = b.longs()[b.size() == 1 ? 0 : i];
                o[i] = switch (op) { case "Add" -> x + y; case "Sub" -> x - y; case "Mul" -> x * y; default -> Math.floorDiv(x, y); };
            }
            return OnnxTensor.ofLongs(n.output(), a.type(), outShape, o);
        }
        if (a.floats() != null && b.floats() != null) {
            float[] o = new float[size];
            for (int i = 0; i < size; i++) {
                float x = a.floats()[a.size() == 1 ? 0 : i], y = b.floats()[b.size() == 1 ? 0 : i];
                o[i] = switch (op) { case "Add" -> x + y; case "Sub" -> x - y; case "Mul" -> x * y; default -> x / y; };
            }
            return OnnxTensor.ofFloats(n.output(), outShape, o);
        }
        return null;
    }
}
