package dev.offload.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Collects rows and prints them as a table, JSON ({@code offload.bench/1}) and an SVG bar chart. */
public final class Report {
    private final List<BenchRow> rows = new ArrayList<>();
    private final Map<String, Object> environment = new LinkedHashMap<>();

    public synchronized void add(BenchRow row) { rows.add(row); }

    public synchronized List<BenchRow> rows() { return List.copyOf(rows); }

    public void environment(String key, Object value) { environment.put(key, value); }

    public void printTable(PrintWriter out) {
        String fmt = "%-12s %-26s %-15s %-10s %11s %12s %8s  %s%n";
        out.printf(Locale.ROOT, fmt, "section", "case", "impl", "device", "median ms", "rate", "ratio", "note");
        for (BenchRow r : rows()) {
            out.printf(Locale.ROOT, fmt, r.section(), r.shape(), r.impl(), r.device(),
                    String.format(Locale.ROOT, "%.3f", r.medianMs()),
                    String.format(Locale.ROOT, "%.1f %s", r.rate(), r.unit()),
                    Double.isNaN(r.ratio()) ? "" : String.format(Locale.ROOT, "%.2fx", r.ratio()), r.note());
        }
        out.flush();
    }

    public void writeJson(Path file) throws IOException {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("schema", "offload.bench/1");
        root.put("when", Instant.now().toString());
        root.put("environment", environment);
        root.put("rows", rows());
        Files.writeString(file, new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                .writerWithDefaultPrettyPrinter().writeValueAsString(root));
    }

    /** Horizontal bars of each row's rate, grouped by section and case; offload's bars coloured apart from peers'. */
    public void writeSvg(Path file) throws IOException {
        List<BenchRow> rs = rows();
        int barH = 16, gap = 4, left = 430, width = 1100, top = 40;
        int h = top + rs.size() * (barH + gap) + 40;
        StringBuilder svg = new StringBuilder();
        svg.append(String.format(Locale.ROOT,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"12\">%n",
                width, h));
        svg.append("<text x=\"10\" y=\"20\" font-size=\"15\" font-weight=\"bold\">offload bench: rate per case (log scale), offload in blue</text>\n");
        double maxLog = rs.stream().mapToDouble(r -> Math.log10(Math.max(r.rate(), 1e-3) + 1)).max().orElse(1);
        int y = top;
        String lastSection = "";
        for (BenchRow r : rs) {
            if (!r.section().equals(lastSection)) {
                svg.append(String.format(Locale.ROOT, "<line x1=\"0\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#ccc\"/>%n", width, y - 2, y - 2));
                lastSection = r.section();
            }
            double len = (width - left - 140) * Math.log10(Math.max(r.rate(), 1e-3) + 1) / maxLog;
            String color = r.impl().startsWith("offload") ? "#2b6cb0" : "#a0aec0";
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>%n", left - 6,
                    y + barH - 4, escape(r.section() + " " + r.shape() + " " + r.impl() + " @" + r.device())));
            svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>%n",
                    left, y, Math.max(len, 1), barH, color));
            svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\">%.1f %s%s</text>%n", left + len + 4,
                    y + barH - 4, r.rate(), escape(r.unit()),
                    Double.isNaN(r.ratio()) ? "" : String.format(Locale.ROOT, " (%.2fx)", r.ratio())));
            y += barH + gap;
        }
        svg.append("</svg>\n");
        Files.writeString(file, svg.toString());
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
