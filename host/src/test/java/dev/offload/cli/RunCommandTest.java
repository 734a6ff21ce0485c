package dev.offload.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.session.EmbeddingOptions;
import dev.offload.session.EmbeddingSession;
import dev.offload.tensor.Npy;
import dev.offload.tensor.NpyArray;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code offload run}: a thin user of the embedding session; results on stdout, one throughput figure. */
class RunCommandTest {
    @TempDir Path dir;

    @Test
    void writesExactlyTheSessionsEmbeddingsAndSaysWhatItsThroughputMeans() throws Exception {
        Path texts = dir.resolve("texts.txt");
        List<String> lines = List.of("A man is playing a guitar on stage.", "Rain.", "The stock market fell sharply this morning.");
        Files.write(texts, lines);
        Path out = dir.resolve("e.npy"), hidden = dir.resolve("h.npy"), ids = dir.resolve("ids.npy"), json = dir.resolve("p.json");
        var r = CliRun.of("run", "--device", "cl:cpu", "--input", texts.toString(), "--batch", "2",
                "--output", out.toString(), "--hidden-states", hidden.toString(), "--token-ids", ids.toString(), "--json", json.toString());
        assertEquals(0, r.exit(), r.err());
        assertEquals(1, r.out().lines().filter(l -> l.contains("sentences/s")).count(), "one throughput figure:\n" + r.out());
        assertTrue(r.out().contains("the embedding loop after warm-up"), r.out());
        assertFalse(r.out().contains(" INFO "), "log lines on stdout:\n" + r.out());
        // The timed loop replays; the profile comes from its own profiled pass, per node, in the table and the JSON.
        assertTrue(r.out().contains("per op kind") && r.out().contains("latency"), r.out());
        String profile = Files.readString(json);
        assertTrue(profile.contains("\"linear\"") && profile.contains("layer.5"), profile.substring(0, Math.min(400, profile.length())));

        NpyArray e = Npy.read(out);
        assertEquals("(3, 384)", e.shapeString());
        try (EmbeddingSession s = EmbeddingSession.open(EmbeddingOptions.defaults().withPlacement("java"))) {
            assertArrayEquals(s.embed(lines).vectors(), e.toFloatArray());
        }
        // Per-token outputs stack at the longest text's length (12 tokens here), not at a padding bucket.
        long longest = Npy.read(ids).shape()[1];
        assertEquals(List.of(3L, longest, 384L), java.util.Arrays.stream(Npy.read(hidden).shape()).boxed().toList());
        assertTrue(longest > 3 && longest < 16, "longest " + longest);
    }

    @Test
    void badOutputsFailBeforeAnyWorkAndWriteNothing() throws Exception {
        Path texts = dir.resolve("texts.txt"), out = dir.resolve("e.npy"), folder = Files.createDirectory(dir.resolve("folder"));
        Files.write(texts, List.of("One sentence."));
        Path badUtf8 = Files.write(dir.resolve("bad.txt"), new byte[] {'a', (byte) 0xC3, '\n'});
        for (String[] args : List.of(
                new String[] {"run", "--device", "java", "--input", texts.toString(), "--output", out.toString(), "--hidden-states", folder.toString()},
                new String[] {"run", "--device", "java", "--input", texts.toString(), "--output", texts.toString()},
                new String[] {"run", "--device", "java", "--input", texts.toString(), "--output", out.toString(), "--token-ids", out.toString()},
                new String[] {"run", "--device", "java", "--input", texts.toString(), "--output", "/dev/null"},
                new String[] {"run", "--device", "java", "--input", badUtf8.toString(), "--output", out.toString()},
                new String[] {"run", "--device", "java", "--input", folder.toString()},
                new String[] {"run", "--model", folder.toString()})) {
            var r = CliRun.of(args);
            assertEquals(2, r.exit(), String.join(" ", args) + ": " + r.err());
            assertEquals(1, r.err().strip().lines().count(), String.join(" ", args) + ":\n" + r.err());
            assertFalse(Files.exists(out), String.join(" ", args) + " wrote " + out);
        }
        assertEquals(List.of("One sentence."), Files.readAllLines(texts));
    }

    @Test
    void badOptionsAreOneLineAndExitTwo() {
        for (String[] args : List.of(new String[] {"run", "--batch", "0"},
                new String[] {"run", "--device", "java", "--max-length", "9999"},
                new String[] {"run", "--model", "/nonexistent.onnx"},
                new String[] {"run", "--device", "java", "--placement", "auto"},
                new String[] {"run", "--device", "java", "--prune", "bsr:1.5"},
                new String[] {"run", "--device", "java", "--prune", "bsr:16:0.9"},
                new String[] {"run", "--device", "java", "--prune", "bsr:16x4:"})) {
            var r = CliRun.of(args);
            assertEquals(2, r.exit(), String.join(" ", args) + ": " + r.err());
            assertEquals(1, r.err().strip().lines().count(), String.join(" ", args) + ":\n" + r.err());
        }
    }
}
