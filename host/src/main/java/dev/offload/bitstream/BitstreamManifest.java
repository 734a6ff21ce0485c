package dev.offload.bitstream;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * What a stored program binary is: which kernels from which source with which options, for which device, and
 * its checksum. Written as JSON beside the binary ({@code bitstreams/README.md} documents every field).
 *
 * @param sourceSha256    SHA-256 of the family's OpenCL C source the binary was built from; null for an import
 *                        whose family is unknown
 * @param options         the build options the runtime asks for ({@code OpenClDevice.program(family, options)})
 * @param optionsSha256   SHA-256 of {@code options}: the key runtime lookups use
 * @param compilerOptions what clBuildProgram actually got ({@code options} plus {@code -cl-kernel-arg-info})
 * @param builtBy         {@code offload <version> via <binding>}, or the vendor tool for imports
 * @param builtAt         ISO-8601 UTC; for imports the binary file's modification time
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
@JsonPropertyOrder({"schema", "family", "familyVersion", "sourceSha256", "options", "optionsSha256", "compilerOptions",
        "target", "binary", "kernels", "builtBy", "builtAt"})
public record BitstreamManifest(
        String schema,
        String family,
        int familyVersion,
        String sourceSha256,
        String options,
        String optionsSha256,
        String compilerOptions,
        DeviceTarget target,
        BinaryFile binary,
        List<KernelEntry> kernels,
        String builtBy,
        String builtAt) {

    public static final String SCHEMA = "offload.bitstream/1";

    /**
     * The binary file beside the manifest.
     *
     * @param format {@code opencl-binary} (CL_PROGRAM_BINARIES), {@code aocx} (Intel FPGA) or {@code xclbin} (Xilinx)
     */
    public record BinaryFile(String file, String sha256, long sizeBytes, String format) {}

    /**
     * One kernel of the program.
     *
     * @param args               argument signatures; null when the binary does not say (no kernel arg info)
     * @param reqdWorkGroupSize  {@code reqd_work_group_size}, or null when the kernel has none
     */
    public record KernelEntry(String name, int argCount, List<Arg> args, List<Long> reqdWorkGroupSize) {}

    /** One kernel argument; {@code signature} is what comparisons use (names are documentation). */
    public record Arg(int index, String name, String type, String addressSpace, String signature) {}

    public List<String> kernelNames() { return kernels.stream().map(KernelEntry::name).toList(); }

    public KernelEntry kernel(String name) {
        return kernels.stream().filter(k -> k.name().equals(name)).findFirst().orElse(null);
    }

    /**
     * Databind reads and writes manifests. Reading is strict about types (no number/string coercion, no float as an
     * integer, nothing after the object) and ignores unknown fields; a missing field reads as null (0 for numbers).
     */
    private static final class Json {
        static final ObjectMapper MAPPER = JsonMapper.builder()
                .enable(SerializationFeature.INDENT_OUTPUT)
                .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, DeserializationFeature.ACCEPT_FLOAT_AS_INT)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
                .build();
    }

    public String toJson() {
        try {
            return Json.MAPPER.writeValueAsString(this) + "\n";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Parses a manifest; a wrong schema id is an error that says which one was found. */
    public static BitstreamManifest fromJson(String json, String where) {
        BitstreamManifest m;
        try {
            m = Json.MAPPER.readValue(json, BitstreamManifest.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("bitstream manifest " + where + " is not valid JSON: " + oneLine(e), e);
        }
        if (!SCHEMA.equals(m.schema())) {
            throw new IllegalArgumentException("bitstream manifest " + where + " has schema '" + m.schema()
                    + "', expected '" + SCHEMA + "'");
        }
        if (m.target() == null || m.binary() == null || m.kernels() == null) {
            throw new IllegalArgumentException("bitstream manifest " + where + " lacks target, binary or kernels");
        }
        requirePresent(where, "family", m.family());
        requirePresent(where, "target.platformName", m.target().platformName());
        requirePresent(where, "target.deviceName", m.target().deviceName());
        requirePresent(where, "binary.file", m.binary().file());
        requirePresent(where, "binary.sha256", m.binary().sha256());
        if (m.binary().sizeBytes() < 0) {
            throw new IllegalArgumentException("bitstream manifest " + where + ": binary.sizeBytes is negative (" + m.binary().sizeBytes() + ")");
        }
        for (KernelEntry k : m.kernels()) {
            if (k == null || k.name() == null || k.argCount() < 0) {
                throw new IllegalArgumentException("bitstream manifest " + where + ": every kernel needs a name and an argument count of at least 0");
            }
            if (k.args() != null && k.args().stream().anyMatch(x -> x == null || x.signature() == null)) {
                throw new IllegalArgumentException("bitstream manifest " + where + ": kernel " + k.name() + " has an argument without a signature");
            }
        }
        return m;
    }

    /** The fields every check reads: a manifest without one is refused here, not met as a null later. */
    private static void requirePresent(String where, String field, String value) {
        if (value == null) throw new IllegalArgumentException("bitstream manifest " + where + " lacks " + field);
    }

    /** Jackson's message without its source excerpt, on one line, with where in the text it stopped. */
    private static String oneLine(JsonProcessingException e) {
        String what = e.getOriginalMessage().replaceAll("\\s+", " ").strip();
        JsonLocation at = e.getLocation();
        return at == null ? what : what + " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")";
    }
}
