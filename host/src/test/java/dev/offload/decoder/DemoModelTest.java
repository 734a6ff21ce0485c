package dev.offload.decoder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.config.CacheDirs;
import dev.offload.hash.Sha256;
import dev.offload.model.gguf.GgmlQuantizer;
import dev.offload.model.gguf.GgmlType;
import dev.offload.model.gguf.GgufFile;
import dev.offload.model.gguf.GgufTensorInfo;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The demo model shipped in the jar: its files, their checksums, their extraction into the cache and what they hold. */
class DemoModelTest {
    @TempDir Path cache;

    static byte[] resource(DemoModel.Variant v) throws Exception {
        try (InputStream in = DemoModel.class.getResourceAsStream(DemoModel.RESOURCES + v.fileName())) {
            return in.readAllBytes();
        }
    }

    @Test
    void sha256sumsListsEveryVariantWithTheHashOfItsResource() throws Exception {
        Map<String, String> sums = DemoModel.sums();
        assertEquals(DemoModel.Variant.values().length, sums.size(), sums.toString());
        for (DemoModel.Variant v : DemoModel.Variant.values()) assertEquals(Sha256.of(resource(v)), sums.get(v.fileName()), v.fileName());
    }

    @Test
    void theFilesAreSmall() throws Exception {
        assertTrue(resource(DemoModel.Variant.Q8_0).length <= 10_000_000, "Q8_0 over 10 MB");
        long total = 0;
        for (DemoModel.Variant v : DemoModel.Variant.values()) total += resource(v).length;
        assertTrue(total <= 24_000_000, "the three files take " + total + " bytes");
    }

    @Test
    void resolveExtractsOnceAndReplacesADamagedCopy() throws Exception {
        CacheDirs dirs = new CacheDirs(cache);
        Path p = DemoModel.resolve(dirs);
        assertEquals(new CacheDirs(cache).models().resolve(DemoModel.Variant.Q8_0.fileName()), p);
        assertArrayEquals(resource(DemoModel.Variant.Q8_0), Files.readAllBytes(p));
        FileTime old = FileTime.fromMillis(1_000_000_000_000L);
        Files.setLastModifiedTime(p, old);
        assertEquals(p, DemoModel.resolve(dirs));
        assertEquals(old, Files.getLastModifiedTime(p), "an intact copy is not written again");

        byte[] damaged = Files.readAllBytes(p);
        damaged[damaged.length / 2] ^= 1;
        Files.write(p, damaged);
        assertArrayEquals(resource(DemoModel.Variant.Q8_0), Files.readAllBytes(DemoModel.resolve(dirs)));
        try (var left = Files.list(new CacheDirs(cache).models())) {
            assertEquals(1, left.count(), "no temporary file is left behind");
        }
    }

    @ParameterizedTest
    @EnumSource(DemoModel.Variant.class)
    void eachFileIsTheKjvLlamaWithItsLicenceAndItsTensorTypes(DemoModel.Variant v) {
        try (GgufFile f = GgufFile.open(DemoModel.resolve(new CacheDirs(cache), v))) {
            var md = f.metadata();
            assertEquals(3, f.version());
            assertEquals("llama", md.string("general.architecture"));
            assertEquals("public-domain", md.string("general.license"));
            assertTrue(md.string("general.source.description").contains("bible-kjv-text"));
            assertEquals("llama", md.string("tokenizer.ggml.model"));
            GgmlType matrices = switch (v) {
                case F32 -> GgmlType.F32;
                case Q8_0 -> GgmlType.Q8_0;
                case Q4_0 -> GgmlType.Q4_0;
            };
            for (GgufTensorInfo t : f.tensorInfos()) {
                assertEquals(t.shape().length == 2 ? matrices : GgmlType.F32, t.type(), t.name());
            }
            DecoderConfig c = GgufDecoder.config(f);
            assertEquals(new DecoderConfig(DecoderConfig.Architecture.LLAMA, 4, 256, 4, 2, 64, 768, 3072, 256, 10000f,
                    dev.offload.graph.RotaryEmbedding.Style.ADJACENT_PAIRS, 1e-5f, false), c);
            assertTrue(!f.hasTensor("output.weight"), "the output is tied to the embedding");
        }
    }

    /**
     * The recipe's Python quantizers are ggml's reference ones: every matrix of the Q8_0 and Q4_0 files is, byte for
     * byte, what offload's GgmlQuantizer (ggml's quantize_row_*_ref) makes of the same matrix in the F32 file.
     */
    @ParameterizedTest
    @EnumSource(value = DemoModel.Variant.class, names = {"Q8_0", "Q4_0"})
    void theQuantizedFilesAreGgmlsReferenceQuantizationOfTheF32One(DemoModel.Variant v) {
        CacheDirs dirs = new CacheDirs(cache);
        GgmlType type = v == DemoModel.Variant.Q8_0 ? GgmlType.Q8_0 : GgmlType.Q4_0;
        int matrices = 0;
        try (GgufFile f32 = GgufFile.open(DemoModel.resolve(dirs, DemoModel.Variant.F32)); GgufFile q = GgufFile.open(DemoModel.resolve(dirs, v))) {
            for (GgufTensorInfo t : f32.tensorInfos()) {
                if (t.shape().length != 2) continue;
                float[] values = f32.tensor(t.name()).data().toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN));
                byte[] want = GgmlQuantizer.encode(type, values);
                byte[] got = q.tensor(t.name()).data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
                assertArrayEquals(want, got, v + " " + t.name());
                matrices++;
            }
        }
        assertEquals(1 + 4 * 7, matrices);
    }
}
