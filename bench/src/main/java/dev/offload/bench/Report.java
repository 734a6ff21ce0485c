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

    /**
     * One panel per section and unit. The main mark of a row is its ratio to the section's peer (offload's speed
     * relative to the peer on the same case, so a longer bar to the right of 1x is better whatever the unit, µs/op
     * included), on a log scale around 1x; the measured value is printed beside it. Rows without a ratio (the peers',
     * or cases without one) show the value only. Labels are measured against the widest one and shortened with an
     * ellipsis (the whole label in a tooltip) only past a cap, so sparse rows are not cut off.
     */
    public void writeSvg(Path file) throws IOException {
        List<BenchRow> rs = rows();
        Map<String, List<BenchRow>> panels = new LinkedHashMap<>();
        for (BenchRow r : rs) panels.computeIfAbsent(r.section() + " (" + r.unit() + ")", k -> new ArrayList<>()).add(r);
        int rowH = 18, titleH = 24, panelGap = 16, width = 1200, top = 50;
        double charW = 6.6;   // 11 px sans-serif, a generous average
        int longest = rs.stream().mapToInt(r -> label(r).length()).max().orElse(10);
        int maxChars = 70;
        int left = (int) Math.ceil(Math.min(longest, maxChars) * charW) + 16;
        int valueW = 300, barLeft = left + 10, barRight = width - valueW;
        int h = top + panels.values().stream().mapToInt(p -> titleH + p.size() * rowH + panelGap).sum() + 20;
        SvgWriter svg = new SvgWriter(width, h);
        svg.text(10, 20, "offload bench: ratio to the peer per case (log scale; right of 1x = offload faster), value beside it",
                "font-size=\"15\" font-weight=\"bold\"");
        svg.text(10, 38, "ratios are per section as the table's note says (for us/op and ns/op rows: the peer's time / offload's)",
                "font-size=\"11\" fill=\"#555\"");
        double span = 2 * Math.log(16);   // 1/16x .. 16x across the bar area (beyond: clamped, the printed ratio says how far)
        double one = (barLeft + barRight) / 2.0;
        int y = top;
        for (Map.Entry<String, List<BenchRow>> panel : panels.entrySet()) {
            svg.line(0, y, width, y, "#ccc");
            svg.text(10, y + 16, panel.getKey(), "font-size=\"13\" font-weight=\"bold\"");
            y += titleH;
            int panelTop = y;
            for (BenchRow r : panel.getValue()) {
                String full = label(r);
                String shown = full.length() <= maxChars ? full : full.substring(0, maxChars - 1) + "\u2026";
                svg.text(left, y + rowH - 5, shown, "text-anchor=\"end\" font-size=\"11\"");
                String value = String.format(Locale.ROOT, "%.1f %s", r.rate(), r.unit());
                if (!Double.isNaN(r.ratio()) && r.ratio() > 0) {
                    double x = one + (barRight - barLeft) / 2.0 * Math.max(-1, Math.min(1, Math.log(r.ratio()) / (span / 2)));
                    String color = r.ratio() >= 1 ? "#2f855a" : "#c53030";
                    svg.rect(Math.min(one, x), y + 3, Math.max(Math.abs(x - one), 1), rowH - 6, color, full + ": " + value);
                    svg.text(barRight + 8, y + rowH - 5, String.format(Locale.ROOT, "%.2fx  %s", r.ratio(), value), "font-size=\"11\" font-weight=\"bold\"");
                } else {
                    svg.text(barRight + 8, y + rowH - 5, value, "font-size=\"11\" fill=\"#555\"");
                }
                y += rowH;
            }
            svg.line(one, panelTop, one, y, "#333");
            for (double t : new double[] {1 / 16.0, 0.25, 4, 16}) {
                double x = one + (barRight - barLeft) / 2.0 * Math.log(t) / (span / 2);
                svg.line(x, panelTop, x, y, "#e2e8f0");
            }
            svg.text(one, y + 11, "1x", "text-anchor=\"middle\" font-size=\"9\" fill=\"#555\"");
            y += panelGap;
        }
        Files.writeString(file, svg.finish());
    }

    /** A row's left label: the case, who ran it and where. */
    private static String label(BenchRow r) { return r.shape() + "  " + r.impl() + " @" + r.device(); }
}
