package dev.offload.tuning;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A small database of tuned kernel parameters, one entry per (op, device name, driver version). Stored as JSON:
 * <pre>{@code
 * {"format": 1,
 *  "entries": [{"op": "int8_gemm", "device": "pthread-skylake-avx512-AMD EPYC", "driver": "3.1+debian",
 *               "params": {"mr": 4, "nr": 32, "innerLoop": "X86_VNNI", "localColumns": 16},
 *               "gops": {"1024x1024x1024": 690.0, ...}, "tunedAt": "...", "note": "..."}]}
 * }</pre>
 * Immutable: {@link #with} returns a new database.
 *
 * @param entries at most one per (op, device, driver)
 */
public record TuningDb(List<TunedEntry> entries) {
    public static final int FORMAT = 1;
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /** The JSON document: a format number, so a later layout can be told apart, and the entries. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Document(int format, List<TunedEntry> entries) {}

    public TuningDb {
        entries = TunedEntry.sorted(entries);
    }

    public static TuningDb empty() { return new TuningDb(List.of()); }

    /** The entry for an op on a device and driver, if any. */
    public Optional<TunedEntry> find(String op, String deviceName, String driverVersion) {
        return entries.stream().filter(e -> e.matches(op, deviceName, driverVersion)).findFirst();
    }

    /** This database with the entry added, replacing one for the same op, device and driver. */
    public TuningDb with(TunedEntry entry) {
        List<TunedEntry> next = new ArrayList<>();
        for (TunedEntry e : entries) if (!e.matches(entry.op(), entry.device(), entry.driver())) next.add(e);
        next.add(entry);
        return new TuningDb(next);
    }

    public String toJson() {
        try {
            return MAPPER.writeValueAsString(new Document(FORMAT, entries)) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the tuning database as JSON", e);
        }
    }

    public static TuningDb parse(String json, String origin) {
        try {
            Document d = MAPPER.readValue(json, Document.class);
            if (d.format() != FORMAT) {
                throw new IllegalArgumentException(origin + ": tuning database format " + d.format() + ", this offload reads "
                        + FORMAT + " (delete the file or re-run `offload tune`)");
            }
            return new TuningDb(d.entries() == null ? List.of() : d.entries());
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(origin + ": not a tuning database (" + e.getOriginalMessage()
                    + "); delete it or re-run `offload tune`", e);
        }
    }

    /** Reads a database file; a missing file is an empty database. */
    public static TuningDb read(Path file) {
        if (!Files.exists(file)) return empty();
        try {
            return parse(Files.readString(file), file.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the tuning database " + file, e);
        }
    }

    /** Writes through {@link dev.offload.io.AtomicFile} (a temp file renamed over the target), creating the directory. */
    public void write(Path file) {
        dev.offload.io.AtomicFile.write(file, toJson().getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    /** A database on the classpath (the one kept in the repository); empty when absent. */
    public static TuningDb resource(String name) {
        try (InputStream in = TuningDb.class.getClassLoader().getResourceAsStream(name)) {
            if (in == null) return empty();
            return parse(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8), "classpath:" + name);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the tuning database resource " + name, e);
        }
    }
}
