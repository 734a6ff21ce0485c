package dev.offload.validate;

import java.util.List;

/** Every op family's validator, in the order {@code validate} runs them. Add a new family's validator here. */
public final class Validators {
    private Validators() {}

    public static List<OpValidator> all() {
        return List.of(
                new SmokeValidator(),
                new dev.offload.ops.gemm.Int8GemmValidator(),
                new dev.offload.ops.blockq.BlockLinearValidator(),
                new dev.offload.ops.quant.QuantizeValidator(),
                new dev.offload.ops.sparse.SpmmValidator(),
                new dev.offload.ops.attention.AttentionValidator(),
                new dev.offload.ops.layers.EncoderLayersValidator(),
                new dev.offload.ops.layers.DecoderLayersValidator());
    }
}
