package dev.offload.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The one output writer and the one output check: special files are never replaced, an output may not be an input
 * (however spelled), a folder that refuses new files is found before any work and named with the system's reason,
 * and nothing (no probe, no temporary file) is left behind.
 */
class OutputFilesTest {
    @TempDir Path dir;

    private List<String> names() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private Path fifo(String name) throws Exception {
        Path f = dir.resolve(name);
        assertEquals(0, new ProcessBuilder("mkfifo", f.toString()).start().waitFor(), "mkfifo");
        return f;
    }

    @Test
    void directoriesDevicesFifosAndLinksAreRefusedByTheCheckAndByTheWriter() throws Exception {
        Path folder = Files.createDirectory(dir.resolve("out.json"));
        Path fifo = fifo("fifo.json");
        Path link = Files.createSymbolicLink(dir.resolve("link.json"), dir.resolve("target.json"));
        assertTrue(assertThrows(OutputFileException.class, () -> new OutputCheck().output("--json", folder).check())
                .getMessage().equals("--json " + folder + ": is a directory, not a file"));
        for (Path p : List.of(fifo, link)) {
            String m = assertThrows(OutputFileException.class, () -> new OutputCheck().output("--trace", p).check()).getMessage();
            assertTrue(m.startsWith("--trace " + p + ": exists and is not a regular file"), m);
        }
        for (Path p : List.of(folder, fifo, link)) {
            String m = assertThrows(OutputFileException.class, () -> AtomicFile.write(p, new byte[] {1})).getMessage();
            assertTrue(m.startsWith(p + ": cannot write: it exists and is not a regular file"), m);
        }
        assertTrue(Files.isDirectory(folder) && !Files.isRegularFile(fifo, LinkOption.NOFOLLOW_LINKS) && !Files.exists(dir.resolve("target.json")));
        assertEquals(List.of("fifo.json", "link.json", "out.json"), names(), "no probe or temporary file left");
    }

    @Test
    void anOutputThatIsAnInputIsRefusedHoweverItIsSpelled() throws IOException {
        Path input = Files.writeString(dir.resolve("a.npy"), "x");
        Path alias = Files.createSymbolicLink(dir.resolve("alias.npy"), input);
        Path hard = Files.createLink(dir.resolve("hard.npy"), input);
        for (Path out : List.of(input, dir.resolve("sub/../a.npy"), alias, hard)) {
            String m = assertThrows(OutputFileException.class, () -> new OutputCheck().input("--a", input).output("--out", out).check(),
                    out.toString()).getMessage();
            assertEquals("--out " + out + ": the same file as --a " + input, m);
        }
        String twice = assertThrows(OutputFileException.class, () -> new OutputCheck().output("--output", dir.resolve("e.npy"))
                .output("--hidden-states", dir.resolve("e.npy")).check()).getMessage();
        assertTrue(twice.startsWith("--hidden-states " + dir.resolve("e.npy") + ": the same file as --output"), twice);
        new OutputCheck().input("--a", input).output("--out", dir.resolve("new/c.npy")).check();
        assertTrue(!Files.exists(dir.resolve("new")), "the check creates no folder");
    }

    @Test
    void aFolderThatRefusesNewFilesIsFoundBeforeAnyWorkWithTheReason() {
        assumeTrue(Files.isDirectory(Path.of("/proc/self")), "procfs");
        // procfs accepts no new file names, even from root, although access(2) says it is writable.
        for (Path p : List.of(Path.of("/proc/offload-out.npy"), Path.of("/proc/self/sub/x.json"))) {
            String m = assertThrows(OutputFileException.class, () -> new OutputCheck().output("--out", p).check()).getMessage();
            assertTrue(m.startsWith("--out " + p + ": cannot be written (/proc"), m);
            assertTrue(m.contains("the folder does not accept new files"), m);
        }
        String w = assertThrows(OutputFileException.class, () -> AtomicFile.write(Path.of("/proc/offload-out.npy"), new byte[] {1})).getMessage();
        assertEquals("/proc/offload-out.npy: cannot write (/proc: the folder does not accept new files (No such file or directory))", w);
    }

    @Test
    void writesReplaceRegularFilesWholeAndCreateFolders() throws IOException {
        Path f = dir.resolve("deep/er/out.bin");
        AtomicFile.write(f, "first".getBytes(StandardCharsets.UTF_8));
        AtomicFile.write(f, out -> out.write("second".getBytes(StandardCharsets.UTF_8)));
        assertArrayEquals("second".getBytes(StandardCharsets.UTF_8), Files.readAllBytes(f));
        String m = assertThrows(OutputFileException.class, () -> AtomicFile.write(f, out -> {
            out.write(1);
            throw new IOException("No space left on device");
        })).getMessage();
        assertEquals(f + ": cannot write (No space left on device)", m);
        assertArrayEquals("second".getBytes(StandardCharsets.UTF_8), Files.readAllBytes(f), "a failed write keeps the old file");
        try (Stream<Path> s = Files.list(f.getParent())) {
            assertEquals(List.of("out.bin"), s.map(p -> p.getFileName().toString()).toList(), "no temporary file left");
        }
    }

    @Test
    void inputsThatAreNotFilesAreNamedForWhatTheyAre() throws Exception {
        assertEquals("is a directory, not a file", InputFile.problem(dir).orElseThrow());
        assertEquals("is not a regular file (a device, FIFO or socket)", InputFile.problem(fifo("in.fifo")).orElseThrow());
        assertEquals("is a link to nothing", InputFile.problem(Files.createSymbolicLink(dir.resolve("dangling"), dir.resolve("none"))).orElseThrow());
        assertEquals("no such file", InputFile.problem(dir.resolve("none")).orElseThrow());
        Path text = Files.write(dir.resolve("t.txt"), new byte[] {'o', 'k', (byte) 0xFF, '!'});
        assertEquals("--input " + text + ": not valid UTF-8 text (byte 2)",
                assertThrows(IllegalArgumentException.class, () -> InputFile.readUtf8("--input " + text, text)).getMessage());
        assertEquals("--input -: not valid UTF-8 text (byte 0)", assertThrows(IllegalArgumentException.class,
                () -> InputFile.readUtf8("--input -", new java.io.ByteArrayInputStream(new byte[] {(byte) 0xC3}))).getMessage());
        assertEquals("héllo", InputFile.readUtf8("x", new java.io.ByteArrayInputStream("héllo".getBytes(StandardCharsets.UTF_8))));
    }
}
