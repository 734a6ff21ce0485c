package dev.offload.spark;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The launcher bin/offload-discover.sh calls in the tests (OFFLOAD_LAUNCHER, set in pom.xml): the offload CLI on the
 * test class path, as ./offload runs it (native access, libjsig), without ./offload's check for a stale jar, which
 * could start a build inside the build.
 */
final class TestLauncher {
    static final Path FILE = Path.of("target", "offload-test-launcher").toAbsolutePath();

    private TestLauncher() {}

    /** The test class path (Surefire's, not its booter jar's). */
    static String classPath() { return System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")); }

    static synchronized void write() throws IOException {
        String javaHome = System.getProperty("java.home");
        Files.writeString(FILE, "#!/usr/bin/env bash\nexec env LD_PRELOAD=" + javaHome + "/lib/libjsig.so " + javaHome
                + "/bin/java --enable-native-access=ALL-UNNAMED -cp '" + classPath() + "' dev.offload.cli.Main \"$@\"\n");
        if (!FILE.toFile().setExecutable(true)) throw new IOException("cannot make " + FILE + " executable");
    }
}
