package dev.offload.graph;

/**
 * What one execution of an op does, for the profiler's GOPS and GB/s: arithmetic operations (a multiply-add
 * counts as two) and bytes read (inputs and weights) and written (outputs).
 */
public record Cost(long operations, long bytesRead, long bytesWritten) {
    public static final Cost NONE = new Cost(0, 0, 0);

    public Cost plus(Cost o) {
        return new Cost(operations + o.operations, bytesRead + o.bytesRead, bytesWritten + o.bytesWritten);
    }

    /** Cost of an element-wise op: {@code opsPerElement} operations per output element, all inputs read once. */
    static Cost elementwise(java.util.List<TensorType> in, java.util.List<TensorType> out, int opsPerElement) {
        long read = 0, written = 0;
        for (TensorType t : in) read += t.bytes();
        for (TensorType t : out) written += t.bytes();
        return new Cost(out.getFirst().elements() * opsPerElement, read, written);
    }
}
