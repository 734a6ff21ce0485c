package dev.offload.decoder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.offload.config.CacheDirs;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * offload's java reference against the recipe that made the demo model (docs/demo-model, PyTorch, on the weights as
 * each file decodes them): the same greedy continuation of the recipe's prompt, and the same perplexity on a held-out
 * book (Colossians, never trained on).
 */
class DemoModelReferenceTest {
    /**
     * Both sides compute in float32 from the same decoded weights, the log-softmax in double; they differ only in
     * summation order (torch's BLAS against offload's loops): measured 3.9e-7 relative, bound 1e-4.
     */
    static final double PPL_RELATIVE_BOUND = 1e-4;

    @TempDir Path cache;

    @ParameterizedTest
    @EnumSource(DemoModel.Variant.class)
    void theGreedyContinuationIsTheRecipes(DemoModel.Variant v) {
        JsonNode recipe = DemoModels.summary().get("files").get(v.fileName());
        DemoModels.Loaded m = DemoModels.load(DemoModel.resolve(new CacheDirs(cache), v));
        int[] prompt = m.model().tokenizer().encode(DemoModels.prompt(), true);
        int[] want = new int[DemoModels.GREEDY_TOKENS];
        for (int i = 0; i < want.length; i++) want[i] = recipe.get("greedy_ids").get(i).asInt();
        int[] got = DemoModels.greedy(m.reference(), prompt, DemoModels.GREEDY_TOKENS);
        assertArrayEquals(want, got, v + ": offload continued '" + DemoModels.prompt() + "' with '" + m.model().tokenizer().decode(got)
                + "', the recipe with '" + recipe.get("greedy_text").asText() + "'");
        assertEquals(recipe.get("greedy_text").asText(), m.model().tokenizer().decode(got));
    }

    @Test
    void theHeldOutPerplexityOfQ8_0IsTheRecipes() {
        DemoModel.Variant v = DemoModel.Variant.Q8_0;
        JsonNode recipe = DemoModels.summary().get("files").get(v.fileName());
        DemoModels.Loaded m = DemoModels.load(DemoModel.resolve(new CacheDirs(cache), v));
        int[] tokens = m.model().tokenizer().encode(DemoModels.resource(DemoModels.EXCERPT), true, false);
        assertEquals(DemoModels.summary().get("excerpt_tokens").asInt(), tokens.length, "offload's tokenizer and the recipe's disagree on the excerpt");
        Perplexity.Result r = DemoModels.perplexity(m.reference(), tokens, m.model().tokenizer().bos());
        double want = recipe.get("excerpt_ppl").asDouble(), relative = Math.abs(r.perplexity() / want - 1);
        System.out.printf("demo model %s, Colossians (%d tokens, %d chunks of %d): offload PPL %.4f +/- %.4f, recipe %.4f (relative difference %.2e)%n",
                v, tokens.length, r.chunks(), r.ctx(), r.perplexity(), r.error(), want, relative);
        // The recipe rounds its figures to 4 decimals: 7e-7 of a PPL near 75.
        assertTrue(relative < PPL_RELATIVE_BOUND, "offload's PPL " + r.perplexity() + ", the recipe's " + want);
        assertEquals(recipe.get("excerpt_ppl_error").asDouble(), r.error(), 1e-3 * r.error());
    }
}
