package dev.offload.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A java process of the test class path, for what must not be tried inside the test JVM: a driver that may abort the
 * process, an environment the OpenCL loader reads once (OCL_ICD_VENDORS), a heap limit. It inherits the fork's
 * environment (libjsig preloaded, the suite's program cache), runs in {@code workDir} and writes any crash report
 * there, where {@link Result#assertSurvived} looks for it; its stdout and stderr are captured outside {@code workDir}.
 */
public final class ChildJvm {
    private final Path workDir;
    private final Map<String, String> env = new HashMap<>();
    private final List<String> jvmOptions = new ArrayList<>();
    private Duration timeout = Duration.ofSeconds(120);

    private ChildJvm(Path workDir) { this.workDir = workDir; }

    public static ChildJvm in(Path workDir) { return new ChildJvm(workDir); }

    /** Sets (or, with null, removes) an environment variable of the child. */
    public ChildJvm env(String name, String value) {
        env.put(name, value);
        return this;
    }

    public ChildJvm jvmOption(String option) {
        jvmOptions.add(option);
        return this;
    }

    public ChildJvm timeout(Duration t) {
        timeout = t;
        return this;
    }

    /** What the process did: exit code (-1 when it was killed for running past the timeout), streams, crash reports. */
    public record Result(int exit, String out, String err, List<Path> crashReports) {
        /** The stderr lines, without the JVM's own warnings (none are expected, but a JDK may add some). */
        public List<String> errLines() {
            return err.lines().filter(l -> !l.isBlank() && !l.startsWith("WARNING:")).toList();
        }

        /** It ended on its own: no abort (134), no SIGSEGV death (139), no hs_err report, no hang. */
        public Result assertSurvived() {
            assertTrue(exit != -1, "the child JVM hung; stderr:\n" + err);
            assertTrue(exit != 134 && exit != 139, "the child JVM died with exit " + exit + "; stderr:\n" + err);
            assertEquals(List.of(), crashReports, "the child JVM wrote a crash report");
            return this;
        }

        /** Exit code 2 with exactly one stderr line starting {@code offload: } that contains every given fragment. */
        public Result assertOneLineError(String... fragments) {
            assertSurvived();
            assertEquals(2, exit, "stdout:\n" + out + "\nstderr:\n" + err);
            assertEquals(1, errLines().size(), "one stderr line expected:\n" + err);
            String line = errLines().getFirst();
            assertTrue(line.startsWith("offload: "), line);
            for (String f : fragments) assertTrue(line.contains(f), "'" + f + "' missing from: " + line);
            return this;
        }
    }

    /** The offload command line ({@code dev.offload.cli.Main}) with these arguments. */
    public Result cli(String... args) { return main("dev.offload.cli.Main", args); }

    public Result main(String mainClass, String... args) {
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-XX:ErrorFile=" + workDir.resolve("hs_err_pid%p.log"), "-Xss4m"));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", cp, mainClass));
        cmd.addAll(List.of(args));
        try {
            Files.createDirectories(workDir);
            // The streams go to files outside workDir, so a test can assert that the child wrote nothing there.
            Path streams = Files.createTempDirectory("offload-child");
            Path out = streams.resolve("out"), err = streams.resolve("err");
            ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile()).redirectOutput(out.toFile()).redirectError(err.toFile());
            env.forEach((k, v) -> {
                if (v == null) pb.environment().remove(k); else pb.environment().put(k, v);
            });
            Process p = pb.start();
            int exit;
            if (p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                exit = p.exitValue();
            } else {
                p.destroyForcibly().waitFor();
                exit = -1;
            }
            String o = Files.readString(out, StandardCharsets.UTF_8), e = Files.readString(err, StandardCharsets.UTF_8);
            Files.delete(out);
            Files.delete(err);
            Files.delete(streams);
            List<Path> reports;
            try (Stream<Path> files = Files.list(workDir)) {
                reports = files.filter(f -> f.getFileName().toString().startsWith("hs_err_pid")).toList();
            }
            return new Result(exit, o, e, reports);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
