package dev.offload.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.offload.cli.Main;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs many offload command lines in one JVM, for the fuzz tier: each line of the cases file is a JSON array of
 * arguments; for each, one JSON line goes to stdout ({@code case}, {@code exit}, {@code err}), flushed at once, so
 * that if a case kills the JVM the caller knows which one. One JVM start serves a whole batch.
 */
public final class CliBatch {
    private CliBatch() {}

    /** The cases file for {@code cases}: one JSON array of arguments per line. */
    public static Path write(Path file, List<List<String>> cases) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<String> lines = new ArrayList<>();
        for (List<String> c : cases) lines.add(json.writeValueAsString(c));
        return Files.write(file, lines, StandardCharsets.UTF_8);
    }

    public static void main(String[] args) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<String> lines = Files.readAllLines(Path.of(args[0]), StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
            String[] argv = json.readValue(lines.get(i), String[].class);
            StringWriter out = new StringWriter(), err = new StringWriter();
            var cl = Main.commandLine();
            cl.setOut(new PrintWriter(out));
            cl.setErr(new PrintWriter(err));
            int exit;
            try {
                exit = cl.execute(argv);
            } catch (Throwable t) {          // picocli rethrows what the handler does not take: report it, go on
                exit = -2;
                err.write(t + "\n");
            }
            ObjectNode r = json.createObjectNode().put("case", i).put("exit", exit).put("err", err.toString());
            System.out.println(json.writeValueAsString(r));
            System.out.flush();
        }
    }
}
