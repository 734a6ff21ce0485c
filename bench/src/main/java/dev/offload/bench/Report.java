package dev.offload.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.offload.profile.SvgWriter;
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
        String fmt = "%-10s %-34s %-17s %-7s %10s %15s %7s  %s%n";
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
        SvgWriter svg = new SvgWriter(width, h);
        svg.text(10, 20, "offload bench: rate per case (log scale), offload in blue", "font-size=\"15\" font-weight=\"bold\"");
        double maxLog = rs.stream().mapToDouble(r -> Math.log10(Math.max(r.rate(), 1e-3) + 1)).max().orElse(1);
        int y = top;
        String lastSection = "";
        for (BenchRow r : rs) {
            if (!r.section().equals(lastSection)) {
                svg.line(0, y - 2, width, y - 2, "#ccc");
                lastSection = r.section();
            }
            double len = (width - left - 140) * Math.log10(Math.max(r.rate(), 1e-3) + 1) / maxLog;
            String color = r.impl().startsWith("offload") ? "#2b6cb0" : "#a0aec0";
            svg.text(left - 6, y + barH - 4, r.section() + " " + r.shape() + " " + r.impl() + " @" + r.device(), "text-anchor=\"end\"");
            svg.rect(left, y, Math.max(len, 1), barH, color, null);
            svg.text(left + len + 4, y + barH - 4, String.format(Locale.ROOT, "%.1f %s%s", r.rate(), r.unit(),
                    Double.isNaN(r.ratio()) ? "" : String.format(Locale.ROOT, " (%.2fx)", r.ratio())));
            y += barH + gap;
        }
        Files.writeString(file, svg.finish());
    }
}
