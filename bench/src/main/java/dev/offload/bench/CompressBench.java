package dev.offload.bench;

import dev.offload.compress.CompressedModelFile;
import dev.offload.compress.CompressionSpec;
import dev.offload.compress.Compressor;
import dev.offload.compress.Method;
import dev.offload.model.ModelCatalog;
import dev.offload.model.TokenBatch;
import dev.offload.profile.OpSample;
import dev.offload.profile.ProfileReport;
import dev.offload.session.EmbeddingOptions;
import dev.offload.session.EmbeddingSession;
import dev.offload.session.EncoderSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Structured pruning's speed: all-MiniLM-L6-v2-q with half of every layer's FFN neurons removed
 * ({@code offload compress --method ffn-neurons --target 0.5}, written and loaded as a file) against the dense model,
 * through the same {@link EmbeddingSession} on the same device and ids ({@link EndToEndBench#batch}). Two rows: the
 * FFN layers alone (the device time of every {@code ffn.up} and {@code ffn.down} linear, from the runs' profiles) and
 * the whole model's sentences/s. ratio = dense time / pruned time (>1: the pruned model is faster).
 */
final class CompressBench {
    private CompressBench() {}

    record Measured(double wallNs, double ffnNs, String device) {}

    static void run(Report report, String deviceSpec, boolean quick) throws Exception {
        ModelCatalog known = ModelCatalog.ALL_MINILM_L6_V2_Q;
        EncoderSource dense = EncoderSource.known(known);
        CompressedModelFile.Source source = CompressedModelFile.Source.read(dense);
        Compressor.Compressed c = Compressor.compress(source.model(), CompressionSpec.of(Method.FFN_NEURONS, 0.5));
        Path dir = Files.createTempDirectory("offload-compress-bench");
        Path file = dir.resolve("ffn-half.onnx");
        try {
            CompressedModelFile.write(source, CompressedModelFile.bytes(source, c), file);
            int batch = quick ? EndToEndBench.QUICK_BATCH : deviceSpec.equals("java") ? EndToEndBench.JAVA_BATCH : EndToEndBench.BATCH;
            int reps = quick ? 2 : 7;
            Measured d = measure(dense, deviceSpec, batch, reps);
            Measured p = measure(new EncoderSource.OnnxFile(file, null, known.pooling), deviceSpec, batch, reps);
            String shape = known.id + " b" + batch + " s" + EndToEndBench.LENGTH;
            // Integer operations of the FFN linears per run: 2 (multiply, add) x tokens x hidden x width, up and down, every layer.
            var cfg = source.model().config();
            double ops = 2.0 * 2 * batch * EndToEndBench.LENGTH * cfg.hidden() * cfg.layers();
            double denseOps = ops * cfg.intermediate(), prunedOps = ops * c.model().config().intermediate();
            if (!Double.isNaN(d.ffnNs()) && !Double.isNaN(p.ffnNs())) {
                report.add(new BenchRow("compress", shape + " ffn layers", "offload-dense", d.device(), d.ffnNs() / 1e6, denseOps / d.ffnNs(), "GOPS", Double.NaN,
                        "the 12 FFN linears (6 layers x up, down): device time of the fastest run"));
                report.add(new BenchRow("compress", shape + " ffn layers", "offload ffn-neurons 0.5", p.device(), p.ffnNs() / 1e6, prunedOps / p.ffnNs(), "GOPS",
                        d.ffnNs() / p.ffnNs(), String.format(Locale.ROOT, "ratio = dense FFN time / pruned FFN time (target >= 1.6x); FFN width %d -> %d",
                        source.model().config().intermediate(), c.model().config().intermediate())));
            } else {
                Peer.note("compress: no per-op profile on " + d.device() + " (the java reference); FFN rows skipped");
            }
            report.add(new BenchRow("compress", shape, "offload-dense", d.device(), d.wallNs() / 1e6, batch / (d.wallNs() / 1e9), "sentences/s", Double.NaN,
                    "end to end, the same session path as e2e"));
            report.add(new BenchRow("compress", shape, "offload ffn-neurons 0.5", p.device(), p.wallNs() / 1e6, batch / (p.wallNs() / 1e9), "sentences/s",
                    d.wallNs() / p.wallNs(), "ratio = dense time / pruned time"));
        } finally {
            Files.deleteIfExists(file);
            Files.deleteIfExists(dir.resolve("tokenizer.json"));
            Files.deleteIfExists(dir);
        }
    }

    /** Median wall time per run and the FFN device time of the fastest run (the first builds programs), profiling on. */
    private static Measured measure(EncoderSource model, String deviceSpec, int batch, int reps) {
        try (EmbeddingSession s = EmbeddingSession.open(EmbeddingOptions.defaults().withModel(model).withPlacement(deviceSpec).withProfiling(true))) {
            TokenBatch tb = EndToEndBench.batch(s.tokenizer(), batch);
            double wall = Timing.medianNanos(1, reps, 60, Timing.wall(() -> s.lastHiddenState(tb)));
            ProfileReport profile = s.profile(tb.batch(), tb.length()).orElse(null);
            double ffn = Double.NaN;
            if (profile != null && !profile.runs().isEmpty()) {
                for (ProfileReport.Run r : profile.runs()) {
                    long sum = 0;
                    for (OpSample o : r.samples()) if (o.node().endsWith(".ffn.up") || o.node().endsWith(".ffn.down")) sum += o.deviceNs();
                    ffn = Double.isNaN(ffn) ? sum : Math.min(ffn, sum);
                }
            }
            return new Measured(wall, ffn, s.device().split(" ")[0]);
        }
    }
}
