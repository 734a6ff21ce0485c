package dev.offload.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** {@code offload serve}'s command line: listed beside the core commands, and bad options are one line and exit code 2. */
class ServeCommandTest {
    record Outcome(int exit, String out, String err) {}

    static Outcome run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        var cl = ServerMain.commandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        return new Outcome(cl.execute(args), out.toString(), err.toString());
    }

    @Test
    void serveIsACommandBesideTheCoreOnes() {
        Outcome help = run("--help");
        assertEquals(0, help.exit());
        assertTrue(help.out().contains("serve") && help.out().contains("run") && help.out().contains("generate"), help.out());
        Outcome serveHelp = run("serve", "--help");
        for (String option : new String[] {"--host", "--port", "--model", "--max-batch", "--max-queue", "--api-key", "--device", "--placement"}) {
            assertTrue(serveHelp.out().contains(option), "serve --help lacks " + option);
        }
    }

    @Test
    void badOptionsAreOneLineAndExitCode2() {
        String[][] cases = {
                {"serve", "--model", "no-such-model.onnx", "--port", "0"},
                {"serve", "--model", "missing.gguf", "--port", "0"},
                {"serve", "--model", "all-minilm-l6-v2-q", "--device", "java", "--placement", "auto"},
                {"serve", "--model", "all-minilm-l6-v2-q", "--max-batch", "0"},
                {"serve", "--model", "all-minilm-l6-v2-q", "--port", "70000"},
        };
        for (String[] args : cases) {
            Outcome o = run(args);
            assertEquals(2, o.exit(), String.join(" ", args) + ": " + o.err());
            assertTrue(o.err().startsWith("offload: ") && o.err().strip().lines().count() == 1, String.join(" ", args) + ": " + o.err());
        }
    }
}
