package dev.offload.profile;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** An SVG of per-layer time: one horizontal bar per layer, stacked by op kind, with a legend. Plain SVG text. */
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
        int width = LABEL + BAR + RIGHT;
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">%n",
                width, height, width, height));
        s.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        s.append(String.format(Locale.ROOT, "<text x=\"8\" y=\"18\" font-size=\"14\" font-weight=\"bold\">%s</text>%n", esc("time per layer (ms per run): " + r.meta().model())));
        s.append(String.format(Locale.ROOT, "<text x=\"8\" y=\"36\" fill=\"#555\">%s</text>%n",
                esc(String.format(Locale.ROOT, "%s; latency %.2f ms; %d iterations", r.meta().placement(), r.meanLatencyMs(), r.iterations()))));
        int y = TOP;
        for (ProfileReport.Line l : layers) {
            s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>%n", LABEL - 6, y + 15, esc(l.name())));
            double x = LABEL;
            for (int k = 0; k < kinds.size(); k++) {
                double ms = l.msByKind().getOrDefault(kinds.get(k), 0.0);
                if (ms <= 0) continue;
                double w = ms / max * BAR;
                s.append(String.format(Locale.ROOT, "<rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" fill=\"%s\"><title>%s</title></rect>%n",
                        x, y + 3, w, ROW - 6, COLORS[k % COLORS.length], esc(String.format(Locale.ROOT, "%s %s: %.3f ms", l.name(), kinds.get(k), ms))));
                x += w;
            }
            s.append(String.format(Locale.ROOT, "<text x=\"%.2f\" y=\"%d\" fill=\"#333\">%s</text>%n", x + 4, y + 15,
                    esc(String.format(Locale.ROOT, "%.2f ms%s", l.timeMs(), l.fallback() ? " *" : ""))));
            y += ROW;
        }
        s.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>%n", LABEL, TOP, LABEL, y));
        y += 20;
        for (int k = 0; k < kinds.size(); k++) {
            int lx = 8 + (k % 4) * 170, ly = y + (k / 4) * 18;
            s.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>%n", lx, ly - 10, COLORS[k % COLORS.length]));
            s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">%s</text>%n", lx + 16, ly, esc(kinds.get(k))));
        }
        s.append("</svg>\n");
        return s.toString();
    }

    static String esc(String t) {
        return t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    public static void write(ProfileReport r, Path file) throws IOException { Files.writeString(file, svg(r)); }
}
