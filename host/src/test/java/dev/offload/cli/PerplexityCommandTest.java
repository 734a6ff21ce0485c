package dev.offload.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.config.CacheDirs;
import dev.offload.decoder.DemoModel;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code offload perplexity}: llama.cpp's output lines on the demo model, and one-line errors. */
class PerplexityCommandTest {
    @TempDir Path dir;

    private Path model() { return DemoModel.resolve(new CacheDirs(dir.resolve("cache"))); }

    private Path excerpt() throws Exception {
        Path p = dir.resolve("colossians.txt");
        try (InputStream in = getClass().getResourceAsStream("/dev/offload/demo/held-out-colossians.txt")) {
            Files.copy(in, p, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        return p;
    }

    @Test
    void printsTheRunningPerplexityPerChunkThenTheFinalEstimate() throws Exception {
        var r = CliRun.of("perplexity", "--model", model().toString(), "--file", excerpt().toString(), "--device", "java", "--chunks", "2");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().startsWith("[1]") && r.out().contains(",[2]"), r.out());
        Matcher m = Pattern.compile("Final estimate: PPL = ([0-9.]+) \\+/- ([0-9.]+)").matcher(r.out());
        assertTrue(m.find(), r.out());
        double ppl = Double.parseDouble(m.group(1));
        // The first two chunks of Colossians, Q8_0 on the float reference (docs/demo-model: 75.3 over all 11).
        assertTrue(ppl > 40 && ppl < 120, "PPL " + ppl);
        assertTrue(r.err().contains("3000 tokens") && r.err().contains("scored 254 tokens in 2 chunks of 256"), r.err());
    }

    @Test
    void aTextTooShortOrAMissingFileIsOneLineAndExitCode2() throws Exception {
        Path shortText = Files.writeString(dir.resolve("short.txt"), "In the beginning God created the heaven and the earth.\n");
        var tooShort = CliRun.of("perplexity", "--model", model().toString(), "--file", shortText.toString(), "--device", "java");
        assertEquals(2, tooShort.exit());
        assertTrue(tooShort.err().contains("needs at least 512 (two chunks)") && tooShort.err().strip().lines().count() == 1, tooShort.err());
        var missing = CliRun.of("perplexity", "--model", model().toString(), "--file", dir.resolve("nope.txt").toString(), "--device", "java");
        assertEquals(2, missing.exit());
        assertEquals(1, missing.err().strip().lines().count(), missing.err());
        var badCtx = CliRun.of("perplexity", "--model", model().toString(), "--file", excerpt().toString(), "--ctx", "7");
        assertEquals(2, badCtx.exit());
        assertTrue(badCtx.err().contains("--ctx must be even"), badCtx.err());
        var longCtx = CliRun.of("perplexity", "--model", model().toString(), "--file", excerpt().toString(), "--ctx", "512", "--device", "java");
        assertEquals(2, longCtx.exit());
        assertTrue(longCtx.err().contains("longer than the model's context (256)"), longCtx.err());
    }
}
