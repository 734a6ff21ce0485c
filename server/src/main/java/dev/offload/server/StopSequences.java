package dev.offload.server;

import java.util.List;

/**
 * OpenAI's {@code stop}: the text ends before the first occurrence of any stop string, which is not sent. Text is
 * let through as it comes except a tail that could still grow into a stop string, held back until it cannot.
 */
final class StopSequences {
    private final List<String> stops;
    private final StringBuilder held = new StringBuilder();
    private boolean matched;

    StopSequences(List<String> stops) { this.stops = stops.stream().filter(s -> !s.isEmpty()).toList(); }

    /** The text that can be sent now, given the next piece; after a match, what came before the stop string. */
    String push(String piece) {
        if (matched) return "";
        held.append(piece);
        int at = -1;
        for (String s : stops) {
            int i = held.indexOf(s);
            if (i >= 0 && (at < 0 || i < at)) at = i;
        }
        if (at >= 0) {
            matched = true;
            String out = held.substring(0, at);
            held.setLength(0);
            return out;
        }
        int keep = 0;
        for (String s : stops) {
            for (int k = Math.min(s.length() - 1, held.length()); k > keep; k--) {
                if (held.lastIndexOf(s.substring(0, k)) == held.length() - k) { keep = k; break; }
            }
        }
        String out = held.substring(0, held.length() - keep);
        held.delete(0, held.length() - keep);
        return out;
    }

    /** Whether a stop string appeared. */
    boolean matched() { return matched; }

    /** What is still held back, once the text ended without a match. */
    String finish() {
        String rest = matched ? "" : held.toString();
        held.setLength(0);
        return rest;
    }
}
