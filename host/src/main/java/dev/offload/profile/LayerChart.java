package dev.offload.profile;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** An SVG of per-layer time: one horizontal bar per layer, stacked by op kind, with a legend ({@link SvgWriter}). */
public final class LayerChart {
    private static final String[] COLORS = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
            "#ff9da7", "#9c755f", "#bab0ac", "#1f77b4", "#8c564b"};
    private static final int LABEL = 110, BAR = 560, ROW = 22, TOP = 48, RIGHT = 90;

    private LayerChart() {}

    public static String svg(ProfileReport r) {
        List<ProfileReport.Line> layers = r.byLayer();
        List<String> kinds = r.opKinds();
        double max = layers.stream().mapToDouble(ProfileReport.Line::timeMs).max().orElse(1);
        if (max <= 0) max = 1;
        int legendRows = (kinds.size() + 3) / 4;
        int height = TOP + layers.size() * ROW + 30 + legendRows * 18 + 10;
        SvgWriter svg = new SvgWriter(LABEL + BAR + RIGHT, height);
        svg.text(8, 18, "time per layer (ms per run): " + r.meta().model(), "font-size=\"14\" font-weight=\"bold\"");
        svg.text(8, 36, String.format(Locale.ROOT, "%s; latency %.2f ms; %d iterations", r.meta().placement(),
                r.meanLatencyMs(), r.iterations()), "fill=\"#555\"");
        int y = TOP;
        for (ProfileReport.Line l : layers) {
            svg.text(LABEL - 6, y + 15, l.name(), "text-anchor=\"end\"");
            double x = LABEL;
            for (int k = 0; k < kinds.size(); k++) {
                double ms = l.msByKind().getOrDefault(kinds.get(k), 0.0);
                if (ms <= 0) continue;
                double w = ms / max * BAR;
                svg.rect(x, y + 3, w, ROW - 6, COLORS[k % COLORS.length],
                        String.format(Locale.ROOT, "%s %s: %.3f ms", l.name(), kinds.get(k), ms));
                x += w;
            }
            svg.text(x + 4, y + 15, String.format(Locale.ROOT, "%.2f ms%s", l.timeMs(), l.fallback() ? " *" : ""), "fill=\"#333\"");
            y += ROW;
        }
        svg.line(LABEL, TOP, LABEL, y, "#999");
        y += 20;
        for (int k = 0; k < kinds.size(); k++) {
            int lx = 8 + (k % 4) * 170, ly = y + (k / 4) * 18;
            svg.rect(lx, ly - 10, 12, 12, COLORS[k % COLORS.length], null);
            svg.text(lx + 16, ly, kinds.get(k));
        }
        return svg.finish();
    }

    /** Writes the chart through {@link dev.offload.io.AtomicFile}: whole or not at all. */
    public static void write(ProfileReport r, Path file) {
        dev.offload.io.AtomicFile.write(file, svg(r).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
}
