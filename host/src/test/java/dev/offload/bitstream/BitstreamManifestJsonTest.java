package dev.offload.bitstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Manifests read back exactly what was written, escapes included, and bad text is a one-line error naming the file. */
class BitstreamManifestJsonTest {
    private static BitstreamManifest sample() {
        return new BitstreamManifest(BitstreamManifest.SCHEMA, "int8_gemm", 3, "ab12", "-D A=\"x y\" -D P=C:\\dir\t\u00e9\u2603",
                "cd34", "-D A -cl-kernel-arg-info",
                new DeviceTarget("Portable Computing Language", "The pocl project", "dev \"1\"", "vendor", null, "OpenCL 3.0",
                        null, "ec115b0d9145"),
                new BitstreamManifest.BinaryFile("x.bin", "ff00", 5_000_000_000L, "opencl-binary"),
                List.of(new BitstreamManifest.KernelEntry("k", 2,
                                List.of(new BitstreamManifest.Arg(0, "a", "float*", "global", "global float*"),
                                        new BitstreamManifest.Arg(1, "n", "int", "private", "int")), List.of(1L, 1L, 1L)),
                        new BitstreamManifest.KernelEntry("imported", 0, null, null)),
                "offload 0.1.0 via panama", "2026-01-01T00:00:00Z");
    }

    @Test
    void readsBackExactlyWhatDatabindWrites() {
        BitstreamManifest m = sample();
        assertEquals(m, BitstreamManifest.fromJson(m.toJson(), "test"));
    }

    @Test
    void ignoresUnknownFieldsAndRejectsBrokenText() {
        String json = sample().toJson().replaceFirst("\\{", "{ \"extra\" : [1, 2.5, true, {\"x\": null}],");
        assertEquals(sample(), BitstreamManifest.fromJson(json, "test"));
        var e = assertThrows(IllegalArgumentException.class,
                () -> BitstreamManifest.fromJson(sample().toJson().substring(0, 200), "cut.json"));
        assertTrue(e.getMessage().contains("cut.json") && e.getMessage().contains("not valid JSON"), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> BitstreamManifest.fromJson("{\"schema\": 5}", "t"));
    }

    @Test
    void typesAreStrictAndNothingMayFollowTheManifest() {
        String json = sample().toJson();
        for (String bad : new String[] {
                json.replace("\"familyVersion\" : 3", "\"familyVersion\" : 3.5"),
                json.replace("\"familyVersion\" : 3", "\"familyVersion\" : \"3\""),
                json.replace("\"reqdWorkGroupSize\" : [ 1,", "\"reqdWorkGroupSize\" : [ 1.5,"),
                json + "{}"}) {
            assertTrue(!bad.equals(json), "the replacement applies");
            var e = assertThrows(IllegalArgumentException.class, () -> BitstreamManifest.fromJson(bad, "m.json"));
            assertTrue(e.getMessage().startsWith("bitstream manifest m.json ") && !e.getMessage().contains("\n"), e.getMessage());
        }
    }

    /** Found by the fuzz tier: a manifest without its platform name was a NullPointerException in bitstreams verify. */
    @Test
    void fieldsEveryCheckReadsMustBePresent() {
        String json = sample().toJson();
        for (String[] bad : new String[][] {
                {json.replace("\"platformName\" : \"Portable Computing Language\",", ""), "lacks target.platformName"},
                {json.replace("\"deviceName\" : \"dev \\\"1\\\"\",", ""), "lacks target.deviceName"},
                {json.replace("\"family\" : \"int8_gemm\",", ""), "lacks family"},
                {json.replace("\"file\" : \"x.bin\",", ""), "lacks binary.file"},
                {json.replace("\"sha256\" : \"ff00\",", ""), "lacks binary.sha256"},
                {json.replace("5000000000", "-1"), "binary.sizeBytes is negative"},
                {json.replace("\"name\" : \"imported\",", ""), "every kernel needs a name"}}) {
            assertTrue(!bad[0].equals(json), "the replacement applies: " + bad[1]);
            var e = assertThrows(IllegalArgumentException.class, () -> BitstreamManifest.fromJson(bad[0], "m.json"));
            assertTrue(e.getMessage().startsWith("bitstream manifest m.json") && e.getMessage().contains(bad[1]), e.getMessage());
        }
    }
}
