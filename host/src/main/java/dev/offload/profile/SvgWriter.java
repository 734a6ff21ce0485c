package dev.offload.profile;

import java.util.Locale;

/**
 * The few SVG elements offload's charts draw (text, rectangles, lines), written as plain text on a white
 * canvas. Text content is escaped; the {@code attributes} arguments are extra attributes written as given
 * (constants such as {@code text-anchor="end"}), never user text.
 */
public final class SvgWriter {
    private final StringBuilder s = new StringBuilder();

    /** A canvas of the given size, with sans-serif 12-pixel text unless an element says otherwise. */
    public SvgWriter(int width, int height) {
        s.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                + "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">%n", width, height, width, height));
        s.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
    }

    public SvgWriter text(double x, double y, String content) { return text(x, y, content, ""); }

    public SvgWriter text(double x, double y, String content, String attributes) {
        s.append("<text x=\"").append(num(x)).append("\" y=\"").append(num(y)).append('"').append(sep(attributes))
                .append('>').append(escape(content)).append("</text>\n");
        return this;
    }

    /** A filled rectangle; {@code title} (may be null) is the tooltip a browser shows. */
    public SvgWriter rect(double x, double y, double w, double h, String fill, String title) {
        s.append("<rect x=\"").append(num(x)).append("\" y=\"").append(num(y)).append("\" width=\"").append(num(w))
                .append("\" height=\"").append(num(h)).append("\" fill=\"").append(fill).append('"');
        if (title == null) s.append("/>\n");
        else s.append("><title>").append(escape(title)).append("</title></rect>\n");
        return this;
    }

    public SvgWriter line(double x1, double y1, double x2, double y2, String stroke) {
        s.append("<line x1=\"").append(num(x1)).append("\" y1=\"").append(num(y1)).append("\" x2=\"").append(num(x2))
                .append("\" y2=\"").append(num(y2)).append("\" stroke=\"").append(stroke).append("\"/>\n");
        return this;
    }

    /** The finished document. */
    public String finish() { return s + "</svg>\n"; }

    static String escape(String t) {
        return t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    /** Coordinates to two decimals at most ({@code 12}, {@code 12.5}, {@code 12.25}). */
    private static String num(double v) {
        String t = String.format(Locale.ROOT, "%.2f", v);
        return t.contains(".") ? t.replaceAll("0+$", "").replaceAll("\\.$", "") : t;
    }

    private static String sep(String attributes) { return attributes.isEmpty() ? "" : " " + attributes; }
}
