package dev.offload.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.offload.testing.NodeScript;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * offload's ids against llama.cpp's, computed in the same run: llama.cpp tokenizes 50 varied strings (scripts,
 * emoji, digits, code, whitespace, chat markup) through node-llama-cpp with each vocabulary loaded vocabulary-only,
 * with special tokens parsed and as plain text. Skipped when node or the package is missing.
 */
class NodeLlamaCppTokenizeTest {
    @TempDir Path dir;

    @Test
    void idsEqualLlamaCppsOnVariedStringsForEveryFamily() throws Exception {
        Path pkg = LlamaCppVocabs.nodeLlamaCppPackage().orElse(null);
        assumeTrue(pkg != null, LlamaCppVocabs.HOW_TO_GET);
        assumeTrue(Files.isDirectory(pkg.getParent().resolve("@node-llama-cpp")),
                "node-llama-cpp's prebuilt binaries (@node-llama-cpp/linux-x64) are not installed next to " + pkg);
        List<String> names = List.of(LlamaCppVocabs.SUPPORTED);
        List<String> args = new ArrayList<>(List.of(pkg.toString(), NodeScript.copy(getClass(), "tokenizer-strings.json", dir).toString()));
        for (String n : names) args.add(LlamaCppVocabularyTest.vocab(n).toString());
        JsonNode llama = NodeScript.run(NodeScript.copy(getClass(), "llama-cpp-tokenize.mjs", dir), args, 120);
        List<String> strings = LlamaCppVocabularyTest.variedStrings();
        List<String> wrong = new ArrayList<>();
        int compared = 0;
        for (String n : names) {
            TextTokenizer t = LlamaCppVocabularyTest.tokenizer(n);
            JsonNode r = llama.get(LlamaCppVocabularyTest.vocab(n).toString());
            assertEquals(r.get("bos").asInt(), t.bos(), n + " BOS");
            assertEquals(r.get("eos").asInt(), t.eos(), n + " EOS");
            assertEquals(r.get("eot").asInt(), t.eot(), n + " EOT");
            for (int i = 0; i < strings.size(); i++) {
                for (boolean special : new boolean[] {true, false}) {
                    int[] want = ids(r.get(special ? "special" : "plain").get(i));
                    int[] got = t.encode(strings.get(i), false, special);
                    compared++;
                    if (!Arrays.equals(want, got)) {
                        wrong.add(n + (special ? " (special)" : " (plain)") + " '" + strings.get(i) + "': llama.cpp "
                                + Arrays.toString(want) + ", offload " + Arrays.toString(got));
                    }
                }
            }
        }
        System.out.printf("offload vs llama.cpp: %d of %d tokenizations identical (%d strings x 2 modes x %d vocabularies)%n",
                compared - wrong.size(), compared, strings.size(), names.size());
        assertTrue(wrong.isEmpty(), wrong.size() + " of " + compared + " differ:\n" + String.join("\n", wrong));
    }

    private static int[] ids(JsonNode a) {
        int[] ids = new int[a.size()];
        for (int i = 0; i < ids.length; i++) ids[i] = a.get(i).asInt();
        return ids;
    }
}
