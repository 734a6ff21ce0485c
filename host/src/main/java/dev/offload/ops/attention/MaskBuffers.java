package dev.offload.ops.attention;

import dev.offload.cl.Buffer;
import dev.offload.cl.Kernel;
import dev.offload.device.OpenClDevice;
import java.util.List;

/**
 * A mask on the device, as the kernels take it: a kv-length buffer and an additive-mask buffer (one
 * placeholder element when the part is absent; OpenCL needs a buffer for every buffer argument) with
 * their flags and broadcast strides.
 */
final class MaskBuffers implements AutoCloseable {
    private final Mask mask;
    private final Buffer lengths;
    private final boolean ownsLengths;
    private final boolean hasLengths;
    private final Buffer additive;
    private final boolean ownsAdditive;
    private final int batchStride;
    private final int headStride;

    MaskBuffers(OpenClDevice device, AttentionShape shape, Mask mask) { this(device, shape, mask, null); }

    /**
     * @param deviceKvLengths per-sequence key counts already on the device ([batch] int32, values outside [0, Skv]
     *                        act as clamped), used instead of the mask's; null: the mask's own (uploaded)
     */
    MaskBuffers(OpenClDevice device, AttentionShape shape, Mask mask, Buffer deviceKvLengths) {
        this(device, shape, mask, deviceKvLengths, null);
    }

    /**
     * @param placeholder stands in for each absent part (a buffer that outlives the kernels: a graph run's, so that a
     *                    recorded launch finds it at every replay); null: a one-element buffer uploaded and closed here
     */
    MaskBuffers(OpenClDevice device, AttentionShape shape, Mask mask, Buffer deviceKvLengths, Buffer placeholder) {
        this.mask = mask;
        this.hasLengths = deviceKvLengths != null || mask.kvLengths() != null;
        this.ownsLengths = deviceKvLengths == null && (mask.kvLengths() != null || placeholder == null);
        this.lengths = deviceKvLengths != null ? deviceKvLengths
                : mask.kvLengths() != null ? device.upload(mask.kvLengths()) : placeholder != null ? placeholder : device.upload(new int[1]);
        this.ownsAdditive = mask.additive() != null || placeholder == null;
        Buffer a = null;
        try {
            a = mask.additive() != null ? device.upload(mask.additive().values()) : placeholder != null ? placeholder : device.upload(new float[1]);
        } finally {
            if (a == null && ownsLengths) lengths.close();
        }
        this.additive = a;
        Mask.Layout layout = mask.additive() != null ? mask.additive().layout() : Mask.Layout.QUERY_KEY;
        this.batchStride = Math.toIntExact(layout.batchStride(shape));
        this.headStride = Math.toIntExact(layout.headStride(shape));
    }

    /** The seven mask arguments in kernel order (causal, kv_len, has_len, add_mask, has_mask, mask_bstride, mask_hstride), for {@link Kernel#setArgs}. */
    List<Object> args() {
        return List.of(mask.causalArgument(), lengths, hasLengths ? 1 : 0, additive, mask.additive() != null ? 1 : 0,
                batchStride, headStride);
    }

    @Override
    public void close() {
        try {
            if (ownsLengths) lengths.close();
        } finally {
            if (ownsAdditive) additive.close();
        }
    }
}
