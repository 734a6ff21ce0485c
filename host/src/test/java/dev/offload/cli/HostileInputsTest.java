package dev.offload.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.model.onnx.proto.OnnxProtos;
import dev.offload.tensor.DType;
import dev.offload.tensor.Npy;
import dev.offload.tensor.NpyArray;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cases of issue 13 that used to end in a stack trace, a half-written result or a silent overwrite: each is now one
 * line naming the file or option and the problem, exit code 2, and nothing written (the folder holds what it held).
 */
class HostileInputsTest {
    @TempDir Path dir;

    private List<String> files() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** Runs the command and asserts exit 2, one stderr line with every fragment, and that no file appeared or changed. */
    private CliRun refused(List<String> fragments, String... args) throws IOException {
        List<String> before = files();
        CliRun r = CliRun.of(args);
        assertEquals(2, r.exit(), String.join(" ", args) + "\nout:\n" + r.out() + "\nerr:\n" + r.err());
        List<String> lines = r.err().lines().filter(l -> !l.isBlank()).toList();
        assertEquals(1, lines.size(), r.err());
        assertTrue(lines.getFirst().startsWith("offload: "), r.err());
        for (String f : fragments) assertTrue(lines.getFirst().contains(f), "'" + f + "' missing: " + r.err());
        assertEquals(before, files(), "nothing written");
        return r;
    }

    /** A .npy file with a hand-written header (version 1) and {@code data} after it. */
    private Path npy(String name, String dict, int dataBytes) throws IOException {
        byte[] h = dict.getBytes(StandardCharsets.ISO_8859_1);
        int len = h.length + 1 + (64 - (10 + h.length + 1) % 64) % 64;
        ByteBuffer b = ByteBuffer.allocate(10 + len + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) len).put(h);
        while (b.position() < 10 + len - 1) b.put((byte) ' ');
        b.put((byte) '\n');
        return Files.write(dir.resolve(name), b.array());
    }

    private Path int8(String name, int rows, int cols) {
        Path p = dir.resolve(name);
        Npy.write(p, NpyArray.ofBytes(DType.INT8, new byte[rows * cols], rows, cols));
        return p;
    }

    @Test
    void npyHeadersWhoseSizesOverflowAreRefused() throws IOException {
        Path b = int8("b.npy", 3, 2), out = dir.resolve("c.npy");
        Path product = npy("product.npy", "{'descr': '|i1', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16), }", 64);
        refused(List.of(product.toString(), "has more than 2^63 elements"), "gemm-int8", "--a", product.toString(), "--b", b.toString(),
                "--out", out.toString(), "--device", "java");
        // 2^62 int32 values are 2^64 bytes, which wraps to 0 in long arithmetic: accepted before, with no data at all.
        Path wraps = npy("wraps.npy", "{'descr': '<i4', 'fortran_order': False, 'shape': (4611686018427387904,), }", 0);
        refused(List.of(wraps.toString(), "more than 2^63 bytes"), "attention", "--q", wraps.toString(), "--k", wraps.toString(),
                "--v", wraps.toString(), "--out", out.toString(), "--device", "java");
        Path v2 = Files.write(dir.resolve("v2.npy"), new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x7F, '{', '}'});
        refused(List.of(v2.toString(), "truncated header (it says 2147483647 bytes"), "gemm-int8", "--a", v2.toString(), "--b", b.toString(),
                "--out", out.toString(), "--device", "java");
    }

    @Test
    void gemmOutputsAJavaArrayCannotHoldAreRefusedBeforeAnyWorkOnEveryDevice() throws IOException {
        Path a = int8("tall.npy", 50_000, 1), b = int8("wide.npy", 1, 50_000), out = dir.resolve("c.npy");
        for (String device : List.of("java", "cl:cpu")) {
            long t0 = System.nanoTime();
            refused(List.of("--out " + out + ": C (50000 x 50000 int32)", "10000000000 bytes, more than a Java array holds"),
                    "gemm-int8", "--a", a.toString(), "--b", b.toString(), "--out", out.toString(), "--device", device);
            assertTrue(System.nanoTime() - t0 < 20_000_000_000L, "refused before computing 2.5e9 products");
        }
    }

    @Test
    void anOnnxInitializerWithHugeDimsIsRefused() throws IOException {
        OnnxProtos.TensorProto huge = OnnxProtos.TensorProto.newBuilder().setName("w").setDataType(1)
                .addAllDims(List.of(1L << 31, 1L << 31)).build();
        OnnxProtos.ModelProto m = OnnxProtos.ModelProto.newBuilder().setIrVersion(8)
                .addOpsetImport(OnnxProtos.OperatorSetIdProto.newBuilder().setVersion(17))
                .setGraph(OnnxProtos.GraphProto.newBuilder().setName("g").addInitializer(huge)).build();
        Path model = Files.write(dir.resolve("huge.onnx"), m.toByteArray());
        Files.writeString(dir.resolve("tokenizer.json"), "{}");
        refused(List.of(model.toString(), "tensor 'w'", "more than a Java array holds"), "run", "--model", model.toString(), "--device", "java");
    }

    @Test
    void textThatIsNotUtf8AndPathsThatAreNotFilesAreNamedForWhatTheyAre() throws IOException {
        Path bad = Files.write(dir.resolve("bad.txt"), new byte[] {'h', 'i', ' ', (byte) 0xFF, (byte) 0xFE, '\n'});
        refused(List.of("--input " + bad + ": not valid UTF-8 text (byte 3)"), "run", "--input", bad.toString(), "--device", "java");
        Path folder = Files.createDirectory(dir.resolve("texts"));
        refused(List.of("--input " + folder + ": is a directory"), "run", "--input", folder.toString(), "--device", "java");
        Path model = Files.createDirectory(dir.resolve("model.onnx"));
        refused(List.of("--model " + model + ": is a directory"), "run", "--model", model.toString(), "--device", "java");
        Path b = int8("b.npy", 3, 2);
        refused(List.of(folder + ": is a directory, not a file"), "gemm-int8", "--a", folder.toString(), "--b", b.toString(),
                "--out", dir.resolve("c.npy").toString(), "--device", "java");
    }

    @Test
    void everyOutputIsCheckedBeforeAnyIsWritten() throws IOException {
        Path ok = dir.resolve("embeddings.npy"), folder = Files.createDirectory(dir.resolve("states.npy"));
        refused(List.of("--hidden-states " + folder + ": is a directory"), "run", "--device", "java", "--output", ok.toString(),
                "--hidden-states", folder.toString());
        Path proc = Path.of("/proc/offload-profile.json");
        if (Files.isDirectory(Path.of("/proc/self"))) {
            refused(List.of("--json " + proc + ": cannot be written (/proc: the folder does not accept new files"),
                    "run", "--device", "java", "--output", ok.toString(), "--json", proc.toString());
            refused(List.of("--trace " + proc + ": cannot be written"), "profile", "--model", "synthetic:arch=encoder,layers=1,hidden=64,heads=2,seq=8",
                    "--device", "java", "--trace", proc.toString());
        }
        Path a = int8("a.npy", 4, 3), b = int8("b.npy", 3, 2);
        byte[] aBefore = Files.readAllBytes(a);
        refused(List.of("--out " + a + ": the same file as --a " + a), "gemm-int8", "--a", a.toString(), "--b", b.toString(),
                "--out", a.toString(), "--device", "java");
        assertArrayEquals(aBefore, Files.readAllBytes(a), "the input is untouched");
        Path outDir = Files.createDirectory(dir.resolve("c.npy"));
        refused(List.of("--out " + outDir + ": is a directory"), "spmm", "--a", a.toString(), "--b", b.toString(), "--out", outDir.toString(),
                "--device", "java");
    }

    @Test
    void hugeSyntheticSpecsAreRefusedAtOnce() throws IOException {
        long t0 = System.nanoTime();
        refused(List.of("model spec synthetic:arch=encoder", "one activation (batch x seq x 16384)", "more than a Java array holds"),
                "profile", "--model", "synthetic:arch=encoder,layers=1,hidden=4096,heads=32,ffn=16384,seq=65536,batch=16", "--device", "java");
        refused(List.of("needs", "GiB of heap"), "profile", "--model", "synthetic:arch=decoder,layers=100000,hidden=2048,heads=16,seq=8",
                "--device", "java");
        assertTrue(System.nanoTime() - t0 < 10_000_000_000L, "refused before building anything");
    }
}
