package dev.offload.compress;

import dev.offload.profile.SvgWriter;
import java.util.Locale;

/**
 * The SVG chart of a report: each compressed model as a point, speed ratio to the original on x, mean embedding
 * cosine to the original on y (a hollow marker beside it at its retrieval agreement), the original at (1, 1).
 */
public final class AccuracySpeedChart {
    private static final int W = 640, H = 400, LEFT = 70, RIGHT = 30, TOP = 40, BOTTOM = 50;

    private AccuracySpeedChart() {}

    public static String svg(CompressionReport report) {
        double xMax = 1.2, yMin = 1.0;
        for (ReportRow r : report.rows()) {
            xMax = Math.max(xMax, report.speedRatio(r) * 1.1);
            yMin = Math.min(yMin, Math.min(r.agreement().meanCosine(), r.agreement().retrieval()));
        }
        yMin = Math.max(0, Math.floor(yMin * 20 - 1) / 20);
        final double x1 = xMax, y0 = yMin;
        SvgWriter svg = new SvgWriter(W, H);
        svg.text(LEFT, 24, "Accuracy against speed: " + report.model() + " on " + report.device().split(" ")[0], "font-weight=\"bold\"");
        int pw = W - LEFT - RIGHT, ph = H - TOP - BOTTOM;
        svg.line(LEFT, TOP + ph, LEFT + pw, TOP + ph, "#000").line(LEFT, TOP, LEFT, TOP + ph, "#000");
        for (int i = 0; i <= 4; i++) {
            double xv = x1 * i / 4, yv = y0 + (1 - y0) * i / 4;
            double px = LEFT + pw * i / 4.0, py = TOP + ph - ph * i / 4.0;
            svg.line(px, TOP + ph, px, TOP + ph + 5, "#000").text(px - 12, TOP + ph + 20, String.format(Locale.ROOT, "%.2fx", xv));
            svg.line(LEFT - 5, py, LEFT, py, "#000").text(8, py + 4, String.format(Locale.ROOT, "%.3f", yv));
        }
        svg.text(LEFT + pw / 2.0 - 80, H - 10, "sentences/s relative to the original");
        svg.text(LEFT + 8, TOP + 14, "filled: mean cosine to the original; hollow: same nearest neighbour");
        point(svg, LEFT + pw / x1, TOP, "#444", "original", true);
        for (ReportRow r : report.rows()) {
            double px = LEFT + pw * report.speedRatio(r) / x1;
            double cy = TOP + ph - ph * (r.agreement().meanCosine() - y0) / (1 - y0);
            double ry = TOP + ph - ph * (r.agreement().retrieval() - y0) / (1 - y0);
            point(svg, px, cy, "#1f77b4", r.compression(), true);
            point(svg, px, ry, "#d62728", null, false);
        }
        return svg.finish();
    }

    private static void point(SvgWriter svg, double x, double y, String color, String label, boolean filled) {
        svg.rect(x - 4, y - 4, 8, 8, filled ? color : "none\" stroke=\"" + color, label);
        if (label != null) svg.text(x + 7, y + 4, label, "font-size=\"11\"");
    }
}
