package dev.offload.tuning;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tuning database's file format and the user-cache-then-repository lookup. */
class TuningDbTest {
    @TempDir Path dir;

    static TunedEntry gemm(String device, String driver, int mr) {
        return new TunedEntry("int8_gemm", device, driver, Map.of("mr", mr, "nr", 32, "innerLoop", "X86_VNNI", "localColumns", 16),
                Map.of("1024x1024x1024", 512.5), "2026-11-22T10:00:00Z", "test");
    }

    @Test
    void entriesSurviveAWriteAndReadRoundTrip() {
        TuningDb db = TuningDb.empty().with(gemm("dev A", "1.0", 4)).with(gemm("dev B", "2.0", 2));
        Path file = dir.resolve("sub/tuning.json");
        db.write(file);
        TuningDb back = TuningDb.read(file);
        assertEquals(db, back);
        TunedEntry a = back.find("int8_gemm", "dev A", "1.0").orElseThrow();
        assertEquals(4, a.intParam("mr"));
        assertEquals("X86_VNNI", a.stringParam("innerLoop"));
        assertEquals(512.5, a.gops().get("1024x1024x1024"));
    }

    @Test
    void anEntryForTheSameDeviceAndDriverReplacesTheOldOneAndOthersStay() {
        TuningDb db = TuningDb.empty().with(gemm("dev", "1.0", 4)).with(gemm("dev", "1.1", 8)).with(gemm("dev", "1.0", 2));
        assertEquals(2, db.entries().size());
        assertEquals(2, db.find("int8_gemm", "dev", "1.0").orElseThrow().intParam("mr"));
        assertEquals(8, db.find("int8_gemm", "dev", "1.1").orElseThrow().intParam("mr"));
    }

    @Test
    void lookupNeedsTheExactDeviceNameDriverVersionAndOp() {
        TuningDb db = TuningDb.empty().with(gemm("dev", "1.0", 4));
        assertTrue(db.find("int8_gemm", "dev", "1.0").isPresent());
        assertTrue(db.find("int8_gemm", "dev", "1.0.1").isEmpty());
        assertTrue(db.find("int8_gemm", "dev2", "1.0").isEmpty());
        assertTrue(db.find("attention", "dev", "1.0").isEmpty());
    }

    @Test
    void aMissingFileIsAnEmptyDatabaseAndAnUnreadableOneSaysWhatToDo() throws Exception {
        assertTrue(TuningDb.read(dir.resolve("none.json")).entries().isEmpty());
        Path bad = dir.resolve("bad.json");
        Files.writeString(bad, "{\"format\": 1, \"entries\": [{\"op\": \"int8_gemm\"}]}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TuningDb.read(bad));
        assertTrue(e.getMessage().contains("bad.json") && e.getMessage().contains("offload tune"), e.getMessage());
        Files.writeString(bad, "{\"format\": 7, \"entries\": []}");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> TuningDb.read(bad)).getMessage().contains("format 7"));
    }

    @Test
    void theUserCacheWinsOverTheRepositoryAndABrokenCacheFallsBackToTheRepository() throws Exception {
        Path cache = dir.resolve("tuning.json");
        TuningDb repository = TuningDb.empty().with(gemm("dev", "1.0", 2)).with(gemm("other", "1.0", 1));
        TuningDb.empty().with(gemm("dev", "1.0", 8)).write(cache);
        TuningStore store = new TuningStore(cache, repository);

        TuningStore.Found f = store.find("int8_gemm", "dev", "1.0").orElseThrow();
        assertEquals(TuningStore.Source.TUNED, f.source());
        assertEquals(8, f.entry().intParam("mr"));
        TuningStore.Found g = store.find("int8_gemm", "other", "1.0").orElseThrow();
        assertEquals(TuningStore.Source.DB, g.source());

        Files.writeString(cache, "not json");
        assertEquals(TuningStore.Source.DB, store.find("int8_gemm", "dev", "1.0").orElseThrow().source());
        assertTrue(store.find("int8_gemm", "dev", "9.9").isEmpty());
    }

    @Test
    void theRepositoryDatabaseOnTheClasspathParses() {
        List<TunedEntry> entries = TuningDb.resource(TuningStore.REPOSITORY_RESOURCE).entries();
        for (TunedEntry e : entries) {
            assertTrue(!e.device().isBlank() && !e.driver().isBlank() && !e.params().isEmpty(), e.toString());
        }
    }
}
