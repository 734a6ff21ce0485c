package dev.offload.bitstream;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The kernels a family's program must contain for given build options, read from the OpenCL C text: every
 * {@code __kernel void name(} outside comments. Kernels under {@code #if} blocks are evaluated with the
 * {@code -D} macros of the options and the source's own {@code #define}s as far as a simple reader can
 * ({@code #ifdef}, {@code #ifndef}, {@code #if NAME}, {@code #if defined(NAME)}, {@code #if !defined(NAME)},
 * {@code #else}, {@code #elif}); a kernel under a condition it cannot evaluate is not required.
 */
public final class KernelNames {
    private KernelNames() {}

    private static final Pattern KERNEL = Pattern.compile("\\b(?:__kernel|kernel)\\b[^;{}]*?\\bvoid\\s+(\\w+)\\s*\\(");
    private static final Pattern DEFINE_OPTION = Pattern.compile("-D\\s*(\\w+)(?:=(\\S*))?");
    private static final Pattern DIRECTIVE = Pattern.compile("^\\s*#\\s*(\\w+)\\s*(.*)$");

    private enum State { TRUE, FALSE, UNKNOWN }

    /** Kernel names the program built from {@code source} with {@code options} must contain, in source order. */
    public static Set<String> required(String source, String options) {
        String text = stripComments(source);
        Map<String, String> macros = new HashMap<>();
        Matcher d = DEFINE_OPTION.matcher(options == null ? "" : options);
        while (d.find()) macros.put(d.group(1), d.group(2) == null ? "1" : d.group(2));

        // Per line: whether code there is compiled (TRUE), skipped (FALSE) or unknown.
        String[] lines = text.split("\n", -1);
        State[] lineState = new State[lines.length];
        Deque<State[]> stack = new ArrayDeque<>(); // {this branch, any earlier branch taken}
        for (int i = 0; i < lines.length; i++) {
            State here = combined(stack);
            Matcher m = DIRECTIVE.matcher(lines[i]);
            if (m.matches()) {
                String what = m.group(1), arg = m.group(2).strip();
                switch (what) {
                    case "ifdef" -> stack.push(new State[] {macros.containsKey(word(arg)) ? State.TRUE : State.FALSE, null});
                    case "ifndef" -> stack.push(new State[] {macros.containsKey(word(arg)) ? State.FALSE : State.TRUE, null});
                    case "if" -> stack.push(new State[] {condition(arg, macros), null});
                    case "elif", "else" -> {
                        if (!stack.isEmpty()) {
                            State[] top = stack.peek();
                            State taken = or(top[1] == null ? top[0] : top[1], top[0]);
                            State branch = what.equals("else") ? State.TRUE : condition(arg, macros);
                            top[1] = taken;
                            top[0] = and(not(taken), branch);
                        }
                    }
                    case "endif" -> { if (!stack.isEmpty()) stack.pop(); }
                    case "define" -> {
                        if (here == State.TRUE) {
                            String[] parts = arg.split("\\s+", 2);
                            macros.put(parts[0].replaceAll("\\(.*", ""), parts.length > 1 ? parts[1] : "1");
                        }
                    }
                    case "undef" -> { if (here == State.TRUE) macros.remove(word(arg)); }
                    default -> { }
                }
            }
            lineState[i] = here;
        }
        Set<String> out = new LinkedHashSet<>();
        Matcher k = KERNEL.matcher(text);
        while (k.find()) {
            int line = lineOf(text, k.start(1));
            if (lineState[line] == State.TRUE) out.add(k.group(1));
        }
        return out;
    }

    private static State combined(Deque<State[]> stack) {
        State s = State.TRUE;
        for (State[] level : stack) s = and(s, level[0]);
        return s;
    }

    private static State condition(String expr, Map<String, String> macros) {
        String e = expr.strip();
        Matcher m;
        if ((m = Pattern.compile("^defined\\s*\\(?\\s*(\\w+)\\s*\\)?$").matcher(e)).matches()) {
            return macros.containsKey(m.group(1)) ? State.TRUE : State.FALSE;
        }
        if ((m = Pattern.compile("^!\\s*defined\\s*\\(?\\s*(\\w+)\\s*\\)?$").matcher(e)).matches()) {
            return macros.containsKey(m.group(1)) ? State.FALSE : State.TRUE;
        }
        if (e.matches("\\d+")) return Long.parseLong(e) != 0 ? State.TRUE : State.FALSE;
        if (e.matches("\\w+")) {
            String v = macros.get(e);
            if (v == null) return State.FALSE; // an undefined identifier is 0 in #if
            return v.strip().matches("\\d+") ? (Long.parseLong(v.strip()) != 0 ? State.TRUE : State.FALSE) : State.UNKNOWN;
        }
        return State.UNKNOWN;
    }

    private static State and(State a, State b) {
        if (a == State.FALSE || b == State.FALSE) return State.FALSE;
        return a == State.TRUE && b == State.TRUE ? State.TRUE : State.UNKNOWN;
    }

    private static State or(State a, State b) {
        if (a == State.TRUE || b == State.TRUE) return State.TRUE;
        return a == State.FALSE && b == State.FALSE ? State.FALSE : State.UNKNOWN;
    }

    private static State not(State a) {
        return a == State.TRUE ? State.FALSE : a == State.FALSE ? State.TRUE : State.UNKNOWN;
    }

    private static String word(String s) { return s.split("\\s+")[0]; }

    private static int lineOf(String text, int offset) {
        int n = 0;
        for (int i = 0; i < offset; i++) if (text.charAt(i) == '\n') n++;
        return n;
    }

    /** Replaces comments by spaces, keeping line breaks so that line numbers stay. */
    static String stripComments(String s) {
        StringBuilder out = new StringBuilder(s.length());
        int i = 0;
        while (i < s.length()) {
            if (s.startsWith("//", i)) {
                while (i < s.length() && s.charAt(i) != '\n') { out.append(' '); i++; }
            } else if (s.startsWith("/*", i)) {
                int end = s.indexOf("*/", i + 2);
                end = end < 0 ? s.length() : end + 2;
                for (; i < end; i++) out.append(s.charAt(i) == '\n' ? '\n' : ' ');
            } else {
                out.append(s.charAt(i++));
            }
        }
        return out.toString();
    }
}
