package dev.offload.decoder;

import dev.offload.device.OpenClDevice;
import dev.offload.model.gguf.GgufFile;
import dev.offload.runtime.DevicePool;
import dev.offload.runtime.PlacementSpec;
import dev.offload.validate.CheckResult;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The demo model run greedy on one OpenCL device against the java reference in the device's arithmetic
 * ({@link DecoderReference.Activations#INT8_BLOCKS}): {@value #TOKENS} tokens from KJV prompts, which must be the
 * same, and every step's logits within {@value #LOGIT_BOUND}. validate's decoder_layers family runs it on the Q8_0
 * file (one prompt with --quick, all three without); DemoModelGreedyTest runs it on every device, both bindings and
 * both quantized files, and its comment says why the bound is what it is and why these prompts: they keep the
 * reference's two best logits at least {@value #MIN_MARGIN} apart at every step, well above how far two computations
 * of the same int8 arithmetic differ (measured up to 0.060), so identity on them is not luck at a near tie.
 */
public final class DemoModelGreedyCheck {
    public static final int TOKENS = 64;
    public static final List<String> PROMPTS = List.of("Husbands, love your wives,", "My son, hear the instruction of thy father",
            "And when this epistle is read among");
    /** The largest |device - reference| of any logit at any step: 1.5 times what int8 rounding of the activations moves them. */
    public static final double LOGIT_BOUND = 0.125;
    /** The smallest top-2 margin of the reference that the prompts keep (checked: a failure then names a near tie). */
    public static final double MIN_MARGIN = 0.075;

    private DemoModelGreedyCheck() {}

    /** Two cases per prompt on {@code device}: the tokens (exact) and the logits (within the bound). */
    public static List<CheckResult> run(String op, OpenClDevice device, Path file, boolean quick) {
        List<String> prompts = quick ? PROMPTS.subList(0, 1) : PROMPTS;
        List<CheckResult> out = new ArrayList<>();
        String name = file.getFileName().toString();
        try (GgufFile f = GgufFile.open(file); Arena arena = Arena.ofShared()) {
            GgufDecoder model = GgufDecoder.read(f);
            DecoderConfig c = model.config();
            DecoderReference reference = new DecoderReference(c, model.floatWeights(f), DecoderReference.Activations.INT8_BLOCKS);
            int context = Math.min(c.contextLength(), 128);
            try (DeviceDecoder decoder = new DeviceDecoder(c, QuantizedWeights.load(f, c, arena), context, DevicePool.of(device),
                    PlacementSpec.parse(device.spec()), true, false, null)) {
                for (String p : prompts) {
                    int[] ids = model.tokenizer().encode(p, true);
                    GreedyContinuation want = GreedyContinuation.of(reference, ids, TOKENS), got = GreedyContinuation.of(decoder, ids, TOKENS);
                    out.addAll(compare(op, name + " '" + p + "'", device.spec(), want, got));
                }
            }
        }
        return out;
    }

    /** The two cases of one prompt: identical tokens, and logits within the bound over the steps that saw the same history. */
    static List<CheckResult> compare(String op, String what, String device, GreedyContinuation want, GreedyContinuation got) {
        int same = want.sharedPrefix(got), steps = want.tokens().length;
        String parted = "";
        if (same < steps) {
            double margin = want.topTwoMargin(same);
            parted = String.format(Locale.ROOT, "%d of %d tokens differ; first at step %d: got %d, want %d (the reference's top-2 margin there %.4f%s)",
                    countDiffering(want.tokens(), got.tokens()), steps, same, got.tokens()[same], want.tokens()[same], margin,
                    margin < MIN_MARGIN ? ": a near tie, not a prompt to test identity on" : "");
        }
        double worst = want.largestLogitDifference(got, Math.min(same + 1, steps));
        return List.of(
                new CheckResult(op, what + " greedy " + steps + " tokens [ids]", device, countDiffering(want.tokens(), got.tokens()), 0,
                        same == steps, parted),
                new CheckResult(op, what + " " + steps + " steps [logits, |error|]", device, worst, LOGIT_BOUND, worst <= LOGIT_BOUND,
                        worst <= LOGIT_BOUND ? "" : String.format(Locale.ROOT, "a logit moved by %.4f > %.3f", worst, LOGIT_BOUND)));
    }

    private static int countDiffering(int[] a, int[] b) {
        int n = 0;
        for (int i = 0; i < a.length; i++) if (a[i] != b[i]) n++;
        return n;
    }
}
