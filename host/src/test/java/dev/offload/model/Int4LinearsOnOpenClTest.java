package dev.offload.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.compress.CompressedModelFile;
import dev.offload.compress.CompressionSpec;
import dev.offload.compress.Compressor;
import dev.offload.compress.Method;
import dev.offload.compress.SentenceSet;
import dev.offload.ops.blockq.BlockLinearBound;
import dev.offload.ops.blockq.BlockLinearReference;
import dev.offload.ops.blockq.BlockMatmul;
import dev.offload.ops.quant.QuantizeReference;
import dev.offload.session.EncoderSource;
import dev.offload.testing.CpuDeviceFixture;
import dev.offload.validate.CheckResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The 4-bit encoder's first layer, linear by linear, on the activations it really gets (16 sentences of the built-in
 * set, 48 tokens, padded): blockq.cl on OpenCL against {@link BlockLinearReference} within {@link BlockLinearBound},
 * each linear fed the reference's own input. This is where the OpenCL graph's end-to-end difference from the java
 * one starts (dev.offload.compress.Int4CompressionTest): with VNNI the kernel adds each block's term with a fused
 * multiply-add (one rounding, the reference two), nothing else.
 */
class Int4LinearsOnOpenClTest {
    @RegisterExtension static final CpuDeviceFixture CL = new CpuDeviceFixture();

    @Test
    void everyLinearOfLayerZeroIsWithinTheBlockLinearBoundOnRealActivations() {
        var source = CompressedModelFile.Source.read(EncoderSource.known(ModelCatalog.ALL_MINILM_L6_V2_Q));
        EncoderModel m = Compressor.compress(source.model(), CompressionSpec.of(Method.INT4, 0)).model();
        var tok = EncoderSource.known(ModelCatalog.ALL_MINILM_L6_V2_Q).load().tokenizer();
        List<TokenBatch.Sequence> seqs = new ArrayList<>();
        for (String s : SentenceSet.builtIn().subList(390, 406)) seqs.add(tok.encode(s, 48));
        TokenBatch in = TokenBatch.pad(seqs, tok.padId());
        EncoderConfig c = m.config();
        int rows = in.batch() * in.length(), h = c.hidden();

        // Layer 0 as EncoderReference.forward computes it, keeping each linear's input.
        EncoderModel embedOnly = new EncoderModel(m.name(), c, m.embeddings(), List.of());
        float[] x = embeddings(embedOnly, in);
        EncoderLayer l = m.layers().getFirst();
        BlockMatmul mm = new BlockMatmul(CL.device());
        check(mm, "attn.q", x, l.query(), rows);
        float[] q = EncoderReference.linear(x, null, l.query(), in, ActivationQuantization.PER_SENTENCE), k = EncoderReference.linear(x, null, l.key(), in, ActivationQuantization.PER_SENTENCE),
                v = EncoderReference.linear(x, null, l.value(), in, ActivationQuantization.PER_SENTENCE);
        check(mm, "attn.k", x, l.key(), rows);
        check(mm, "attn.v", x, l.value(), rows);
        float[] context = EncoderReference.attention(q, k, v, in, c);
        check(mm, "attn.out", context, l.attentionOutput(), rows);
        float[] a = EncoderReference.linear(context, null, l.attentionOutput(), in, ActivationQuantization.PER_SENTENCE);
        for (int i = 0; i < a.length; i++) a[i] += x[i];
        float[] x1 = EncoderReference.layerNorm(a, l.attentionNorm(), h);
        check(mm, "ffn.up", x1, l.intermediate(), rows);
        float[] f = dev.offload.ops.layers.LayersReference.gelu(EncoderReference.linear(x1, null, l.intermediate(), in, ActivationQuantization.PER_SENTENCE), false);
        check(mm, "ffn.down", f, l.output(), rows);
    }

    private static float[] embeddings(EncoderModel m, TokenBatch in) {
        // The forward pass of a model without layers is the embeddings' LayerNorm.
        return EncoderReference.forward(m, in, ActivationQuantization.PER_SENTENCE);
    }

    private static void check(BlockMatmul mm, String name, float[] x, Linear linear, int rows) {
        BlockQuantizedLinear b = (BlockQuantizedLinear) linear;
        QuantizeReference.Quantized xb = QuantizeReference.perBlockInt8(x, rows, b.inputs());
        float[] want = BlockLinearReference.linear(xb.data(), xb.scales(), rows, b.weight(), b.bias());
        float[] got;
        try (BlockMatmul.DeviceWeight w = mm.upload(b.weight())) {
            got = mm.linear(xb.data(), xb.scales(), rows, w, b.bias());
        }
        CheckResult r = BlockLinearBound.compare("block linear", name, "opencl", want, got,
                BlockLinearBound.bounds(xb.data(), xb.scales(), rows, b.weight(), b.bias()), true);
        double maxAbs = 0;
        for (int i = 0; i < want.length; i++) maxAbs = Math.max(maxAbs, Math.abs((double) want[i] - got[i]));
        System.out.printf(Locale.ROOT, "layer 0 %s (%dx%dx%d): worst |diff| / bound %.4f, max |diff| %.3g%n", name, rows, b.inputs(), b.outputs(), r.maxError(), maxAbs);
        assertTrue(r.passed(), name + ": " + r.detail());
    }
}
