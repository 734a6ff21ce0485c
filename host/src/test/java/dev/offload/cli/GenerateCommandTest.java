package dev.offload.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.decoder.DecoderConfig;
import dev.offload.decoder.TinyGgufModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code offload generate}: text on stdout, the stop reason and timings on stderr, one-line errors. */
class GenerateCommandTest {
    @TempDir Path dir;

    @Test
    void greedyGenerationIsRepeatableAndSaysWhyItStopped() throws Exception {
        DecoderConfig c = TinyGgufModels.config(DecoderConfig.Architecture.LLAMA);
        Path model = TinyGgufModels.write(dir.resolve("m.gguf"), c, TinyGgufModels.randomWeights(c, 3), TinyGgufModels.Q8_0, false);
        String[] args = {"generate", "--model", model.toString(), "--prompt", "the a", "--max-tokens", "9", "--temperature", "0"};
        var first = CliRun.of(args);
        assertEquals(0, first.exit(), first.err());
        assertEquals(first.out(), CliRun.of(args).out(), "greedy output is deterministic");
        assertTrue(first.out().strip().length() > 0, "no text");
        for (String line : List.of("stop: --max-tokens (9) reached", "prompt eval =", "eval time   =", "/     9 tokens")) {
            assertTrue(first.err().contains(line), "missing '" + line + "' in:\n" + first.err());
        }
    }

    @Test
    void chatWrapsThePromptInTheModelsTemplateAndRefusesWithoutOne() throws Exception {
        DecoderConfig c = TinyGgufModels.config(DecoderConfig.Architecture.LLAMA);
        var w = TinyGgufModels.randomWeights(c, 3);
        Path chat = TinyGgufModels.write(dir.resolve("chat.gguf"), c, w, TinyGgufModels.F32, false, 2,
                "{{ bos_token }}{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}\n{% endfor %}{% if add_generation_prompt %}[assistant] {% endif %}");
        var r = CliRun.of("generate", "--model", chat.toString(), "--chat", "--system", "the", "--prompt", "a to", "--max-tokens", "4", "--temperature", "0");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.err().contains("stop: --max-tokens (4) reached"), r.err());
        Path plain = TinyGgufModels.write(dir.resolve("plain.gguf"), c, w, TinyGgufModels.F32, false);
        var none = CliRun.of("generate", "--model", plain.toString(), "--chat", "--prompt", "a");
        assertEquals(2, none.exit());
        assertTrue(none.err().contains("no chat template") && none.err().strip().lines().count() == 1, none.err());
        assertEquals(2, CliRun.of("generate", "--model", plain.toString(), "--system", "x", "--prompt", "a").exit(), "--system without --chat");
    }

    @Test
    void interactiveChatAnswersEachLineAndEndsAtAnEmptyOne() throws Exception {
        DecoderConfig c = TinyGgufModels.config(DecoderConfig.Architecture.QWEN2);
        Path chat = TinyGgufModels.write(dir.resolve("chat.gguf"), c, TinyGgufModels.randomWeights(c, 8), TinyGgufModels.F32, false, 2,
                "{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}\n{% endfor %}{% if add_generation_prompt %}[assistant] {% endif %}");
        java.io.InputStream stdin = System.in;
        try {
            System.setIn(new java.io.ByteArrayInputStream("a to\nof the\n\nnever read\n".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            var r = CliRun.of("generate", "--model", chat.toString(), "--chat", "-i", "--max-tokens", "3", "--temperature", "0");
            assertEquals(0, r.exit(), r.err());
            assertEquals(2, r.err().lines().filter(l -> l.contains(" tokens/s, ")).count(), "two answers:\n" + r.err());
        } finally {
            System.setIn(stdin);
        }
        assertEquals(2, CliRun.of("generate", "--model", chat.toString(), "-i").exit(), "--interactive without --chat");
    }

    @Test
    void badArgumentsAndFilesAreOneLineAndExitTwo() throws Exception {
        DecoderConfig c = TinyGgufModels.config(DecoderConfig.Architecture.LLAMA);
        Path model = TinyGgufModels.write(dir.resolve("m.gguf"), c, TinyGgufModels.randomWeights(c, 3), TinyGgufModels.F32, false);
        Path notGguf = Files.writeString(dir.resolve("x.gguf"), "not a gguf file at all");
        for (String[] args : List.of(
                new String[] {"generate", "--model", model.toString()},
                new String[] {"generate", "--model", model.toString(), "--prompt", "a", "--temperature", "-1"},
                new String[] {"generate", "--model", model.toString(), "--prompt", "a", "--device", "cl:9:9"},
                new String[] {"generate", "--model", model.toString(), "--prompt", "a", "--device", "java", "--placement", "auto"},
                new String[] {"generate", "--model", model.toString(), "--prompt", "the the the the the", "--ctx", "4"},
                new String[] {"generate", "--model", notGguf.toString(), "--prompt", "a"},
                new String[] {"generate", "--model", dir.resolve("none.gguf").toString(), "--prompt", "a"})) {
            var r = CliRun.of(args);
            assertEquals(2, r.exit(), String.join(" ", args) + ":\n" + r.err());
            assertEquals(1, r.err().strip().lines().count(), String.join(" ", args) + ":\n" + r.err());
        }
    }

    @Test
    void anArchitectureOffloadDoesNotRunIsOneLineNamingTheFileOnceAndWhatIsSupported() throws Exception {
        DecoderConfig c = TinyGgufModels.config(DecoderConfig.Architecture.QWEN3);
        byte[] qwen3 = Files.readAllBytes(TinyGgufModels.write(dir.resolve("q3.gguf"), c, TinyGgufModels.randomWeights(c, 3), TinyGgufModels.F32, false));
        // "qwen3" -> "mamba" everywhere (same length: the file stays well formed)
        String latin = new String(qwen3, java.nio.charset.StandardCharsets.ISO_8859_1).replace("qwen3", "mamba");
        Path mamba = Files.write(dir.resolve("m.gguf"), latin.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        var r = CliRun.of("generate", "--model", mamba.toString(), "--prompt", "a");
        assertEquals(2, r.exit(), r.err());
        String line = r.err().strip();
        assertEquals(1, line.lines().count(), line);
        assertTrue(line.contains("architecture 'mamba' is not supported (supported: llama, qwen2, qwen3, gemma, gemma2, gemma3)"), line);
        assertEquals(line.indexOf(mamba.toString()), line.lastIndexOf(mamba.toString()), "the file is named once: " + line);
    }

    @Test
    void aGemma3FileWithABadWindowIsOneLineAndExitTwoWithNothingWritten() throws Exception {
        DecoderConfig c = TinyGgufModels.config(DecoderConfig.Architecture.GEMMA3);
        byte[] bytes = Files.readAllBytes(TinyGgufModels.write(dir.resolve("g3.gguf"), c, TinyGgufModels.randomWeights(c, 3), TinyGgufModels.F32, false));
        // The sliding-window pattern's u32 2 (after its key) made 9: more than the file's 2 layers.
        String latin = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1)
                .replace("window_pattern\u0004\0\0\0\u0002\0\0\0", "window_pattern\u0004\0\0\0\t\0\0\0");
        Path bad = Files.write(dir.resolve("bad-window.gguf"), latin.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        Path json = dir.resolve("out.json");
        var r = CliRun.of("generate", "--model", bad.toString(), "--prompt", "a", "--json", json.toString());
        assertEquals(2, r.exit(), r.err());
        String line = r.err().strip();
        assertEquals(1, line.lines().count(), line);
        assertTrue(line.contains(bad.toString()) && line.contains("gemma3.attention.sliding_window_pattern = 9 is outside 0..2"), line);
        assertFalse(Files.exists(json), "nothing written");
    }

    @Test
    void withoutAModelItRunsTheDemoModelAndSaysSo() {
        var r = CliRun.of("generate", "--device", "java", "--prompt", "And the LORD spake unto Moses, saying", "--max-tokens", "12", "--temperature", "0");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.err().contains(dev.offload.decoder.DemoModel.NOTICE), r.err());
        assertTrue(r.err().contains("offload-demo-kjv"), r.err());
        assertTrue(r.out().contains("LORD"), "the demo model continues in the King James style: " + r.out());
    }
}
