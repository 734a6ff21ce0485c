package dev.offload.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code offload compress}: a bad request is one line and exit 2 with nothing written; a good one writes what it says. */
class CompressCommandTest {
    @TempDir Path dir;

    private void refused(String expect, String... args) throws Exception {
        CliRun r = CliRun.of(args);
        assertEquals(2, r.exit(), r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
        assertTrue(r.err().contains(expect), r.err());
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(), s.toList(), "nothing written");
        }
    }

    private String out() { return dir.resolve("m.onnx").toString(); }

    @Test
    void badTargetsAreOneLineExitTwoAndNothingWritten() throws Exception {
        refused("must be between 0 and 1", "compress", "--method", "magnitude", "--target", "1", "--out", out());
        refused("must be between 0 and 1", "compress", "--method", "magnitude", "--target", "-0.1", "--out", out());
        refused("must be between 0 and 1", "compress", "--method", "block", "--target", "1.5", "--out", out());
        refused("rank 0", "compress", "--method", "low-rank", "--target", "0", "--out", out());
        refused("more than all of the energy", "compress", "--method", "low-rank", "--target", "1.5", "--out", out());
        refused("rank 0", "compress", "--method", "low-rank", "--target", "0.9,0", "--out", out());
        refused("not a whole number of heads", "compress", "--method", "heads", "--target", "0.3", "--out", out());
        refused("unknown method 'svd'", "compress", "--method", "svd", "--out", out());
        refused("does not divide", "compress", "--method", "block", "--block", "5x16", "--out", out());
        refused("is not a number", "compress", "--method", "magnitude", "--target", "half", "--out", out());
        refused("keep at least one", "compress", "--method", "ffn-neurons", "--target", "0.9999", "--out", out());
        // One bad target in a sweep: nothing of the sweep is written.
        refused("must be between 0 and 1", "compress", "--method", "magnitude", "--target", "0.5,1", "--out", out());
        refused("must be between 0 and 1", "compress", "--method", "heads", "--target", "1", "--out", out());
        refused("--importance magnitude: used only by --method heads", "compress", "--method", "ffn-neurons", "--importance", "magnitude", "--out", out());
        refused("--importance loud: use one of activation, magnitude", "compress", "--method", "heads", "--target", "0.25", "--importance", "loud", "--out", out());

    }

    @Test
    void badSentenceFilesAreOneLineNamingTheFileExitTwoAndNothingWritten() throws Exception {
        String report = dir.resolve("r.md").toString();
        refused("used only by --report or --chart", "compress", "--method", "magnitude", "--target", "0.5", "--out", out(),
                "--sentences", "/dev/zero");
        refused("--sentences /dev/zero: is not a regular file", "compress", "--method", "magnitude", "--target", "0.5",
                "--out", out(), "--sentences", "/dev/zero", "--report", report);
        Path folder = Files.createTempDirectory("offload-sentences");   // outside dir, which must stay empty
        refused("--sentences " + folder + ": is a directory", "compress", "--method", "magnitude", "--target", "0.5",
                "--out", out(), "--sentences", folder.toString(), "--report", report);
    }

    @Test
    void headsWriteAFileThatRunLoads() throws Exception {
        CliRun r = CliRun.of("compress", "--method", "heads", "--target", "0.5", "--importance", "magnitude", "--out", out());
        assertEquals(0, r.exit(), r.err() + r.out());
        assertTrue(r.out().contains("heads 0.5 (magnitude): wrote"), r.out());
        CliRun run = CliRun.of("run", "--model", out(), "--device", "java", "--no-profile");
        assertEquals(0, run.exit(), run.err());
        assertTrue(run.out().contains("6 heads"), run.out());
    }

    @Test
    void aSweepWritesEveryFileTheReportAndTheChart() throws Exception {
        Path sentences = dir.resolve("s.txt");
        Files.writeString(sentences, "A man is playing a guitar.\nSomeone plays the guitar.\nThe stock market fell.\nMy cat sleeps.\n");
        Path report = dir.resolve("r.md"), chart = dir.resolve("c.svg");
        CliRun r = CliRun.of("compress", "--method", "ffn-neurons", "--target", "0.25,0.5", "--out", out(), "--device", "java",
                "--sentences", sentences.toString(), "--report", report.toString(), "--chart", chart.toString(), "--repeats", "1");
        assertEquals(0, r.exit(), r.err() + r.out());
        assertTrue(Files.size(dir.resolve("m-0.25.onnx")) > 1000 && Files.size(dir.resolve("m-0.5.onnx")) > 1000);
        assertTrue(Files.isRegularFile(dir.resolve("tokenizer.json")));
        String md = Files.readString(report);
        assertTrue(md.contains("| ffn-neurons 0.25 |") && md.contains("| ffn-neurons 0.5 |"), md);
        assertTrue(Files.readString(chart).startsWith("<svg"));
        // The written file runs as any encoder file does.
        CliRun run = CliRun.of("run", "--model", dir.resolve("m-0.5.onnx").toString(), "--device", "java", "--no-profile");
        assertEquals(0, run.exit(), run.err());
        assertTrue(run.out().contains("1.000"), run.out());
    }

    @Test
    void lowRankWritesAFileThatRunsAndReportsTheRanksPerLayer() throws Exception {
        Path sentences = dir.resolve("s.txt");
        Files.writeString(sentences, "A man is playing a guitar.\nSomeone plays the guitar.\nThe stock market fell.\n");
        Path report = dir.resolve("r.md");
        CliRun r = CliRun.of("compress", "--method", "low-rank", "--target", "0.9", "--out", out(), "--device", "java",
                "--sentences", sentences.toString(), "--report", report.toString(), "--repeats", "1");
        assertEquals(0, r.exit(), r.err() + r.out());
        String md = Files.readString(report);
        assertTrue(md.contains("| low-rank 0.9 |") && md.contains("## low-rank 0.9") && md.contains("35 of 36 linears factorized"), md);
        // Its energy rank 205, rounded up to a multiple of 16 (CompressionSpec.WIDTH_MULTIPLE), is 208: no saving.
        assertTrue(md.contains("dense, 208 / 384"), "layer 5's attention output (rank 208 of 384) stays dense: " + md);
        CliRun run = CliRun.of("run", "--model", out(), "--device", "java", "--no-profile");
        assertEquals(0, run.exit(), run.err());
    }

    @Test
    void int4WritesAFileThatRunsAndAMatMulNBitsOffloadCannotComputeIsOneLineExitTwo() throws Exception {
        CliRun r = CliRun.of("compress", "--method", "int4", "--out", out(), "--device", "java");
        assertEquals(0, r.exit(), r.err() + r.out());
        CliRun run = CliRun.of("run", "--model", out(), "--device", "java", "--no-profile");
        assertEquals(0, run.exit(), run.err());
        assertTrue(run.out().contains("int4 (Q4_0)"), run.out());

        // The same file with its first MatMulNBits at 8 bits.
        var m = dev.offload.model.onnx.proto.OnnxProtos.ModelProto.parseFrom(Files.readAllBytes(Path.of(out())));
        var g = m.getGraph().toBuilder();
        int at = 0;
        while (!g.getNode(at).getOpType().equals("MatMulNBits")) at++;
        var node = g.getNode(at).toBuilder();
        for (int i = 0; i < node.getAttributeCount(); i++) {
            if (node.getAttribute(i).getName().equals("bits")) node.setAttribute(i, node.getAttribute(i).toBuilder().setI(8));
        }
        g.setNode(at, node);
        Path bad = Files.createDirectories(dir.resolve("bad")).resolve("bad.onnx");
        Files.write(bad, m.toBuilder().setGraph(g).build().toByteArray());
        Files.copy(dir.resolve("tokenizer.json"), bad.resolveSibling("tokenizer.json"));
        CliRun refused = CliRun.of("run", "--model", bad.toString(), "--device", "java", "--no-profile");
        assertEquals(2, refused.exit(), refused.err());
        assertEquals(1, refused.err().strip().lines().count(), "one line: " + refused.err());
        assertTrue(refused.err().contains(bad.toString()) && refused.err().contains("MatMulNBits node '") && refused.err().contains("bits 8"), refused.err());
    }
}
