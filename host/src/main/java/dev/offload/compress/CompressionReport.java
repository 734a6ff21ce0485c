package dev.offload.compress;

import java.util.List;
import java.util.Locale;

/**
 * The markdown report of one {@code offload compress} run: the original model's size and speed, then one row per
 * compressed model measured in the same run on the same device and sentences: weight bytes (as offload runs them,
 * {@link WeightBytes}), sentences/s and its ratio to the original, embedding cosine to the original (mean, p5, min)
 * and retrieval agreement ({@link Agreement}).
 */
public record CompressionReport(String model, String device, int sentences, String sentenceSource, long originalBytes,
                                double originalSentencesPerSecond, List<ReportRow> rows, String command) {

    public String markdown() {
        StringBuilder s = new StringBuilder();
        s.append("# Compression report: ").append(model).append("\n\n");
        s.append("Measured in one run on ").append(device).append(", ").append(sentences).append(" sentences (")
                .append(sentenceSource).append(").\n");
        if (command != null) s.append("Command: `").append(command).append("`\n");
        s.append('\n');
        s.append("| compression | weight bytes | size | sentences/s | speed | cosine mean | cosine p5 | cosine min | same nearest neighbour |\n");
        s.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        s.append(String.format(Locale.ROOT, "| none (original) | %,d | 1.00x | %.1f | 1.00x | 1 | 1 | 1 | 100%% |%n", originalBytes, originalSentencesPerSecond));
        for (ReportRow r : rows) {
            Agreement a = r.agreement();
            s.append(String.format(Locale.ROOT, "| %s | %,d | %.2fx | %.1f | %.2fx | %.5f | %.5f | %.5f | %.1f%% |%n", r.compression(), r.weightBytes(),
                    (double) r.weightBytes() / originalBytes, r.sentencesPerSecond(), speedRatio(r), a.meanCosine(), a.p5Cosine(), a.minCosine(), 100 * a.retrieval()));
        }
        s.append("\nsize and speed are relative to the original; cosine is each sentence's embedding against the original's;"
                + " same nearest neighbour is the share of sentences whose most similar other sentence is unchanged.\n");
        for (ReportRow r : rows) {
            if (r.notes().isEmpty()) continue;
            s.append("\n## ").append(r.compression()).append("\n\n");
            for (String line : r.notes()) s.append(line).append('\n');
        }
        return s.toString();
    }

    public double speedRatio(ReportRow r) { return r.sentencesPerSecond() / originalSentencesPerSecond; }
}
