package dev.offload.bitstream;

import dev.offload.hash.Sha256;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.offload.cl.Binding;
import dev.offload.cl.Device;
import dev.offload.device.DeviceRegistry;
import dev.offload.device.OpenClDevice;
import dev.offload.kernels.KernelFamily;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The on-disk program cache: the second start of a device loads what the first one compiled. */
class ProgramCacheTest {

    private static Device cpu(Binding binding) {
        return DeviceRegistry.discover(binding).resolve("cl:cpu").orElseThrow();
    }

    private static ProgramBuild openAndBuild(Device device, Path store, Path cache) {
        try (OpenClDevice d = new OpenClDevice(device)) {
            BitstreamProgramSource src = new ProgramStore(store, cache).install(d);
            d.program(KernelFamily.SMOKE, "");
            return src.builds().getFirst();
        }
    }

    @ParameterizedTest
    @EnumSource(Binding.class)
    void theFirstOpenCompilesAndTheSecondHitsTheCache(Binding binding, @TempDir Path store, @TempDir Path cache) {
        Device device = cpu(binding);
        ProgramBuild first = openAndBuild(device, store, cache);
        assertEquals(ProgramOrigin.COMPILED, first.origin());
        assertTrue(Files.exists(first.file()), "the compiled binary was saved: " + first.file());
        ProgramBuild second = openAndBuild(device, store, cache);
        assertEquals(ProgramOrigin.CACHE, second.origin());
        assertEquals(first.file(), second.file());
    }

    @Test
    void aCachedProgramComputesWhatTheCompiledOneDid(@TempDir Path store, @TempDir Path cache) {
        Device device = cpu(Binding.PANAMA);
        Random r = new Random(7);
        float[] x = BitstreamStoreTest.randomFloats(r, 997), y = BitstreamStoreTest.randomFloats(r, 997);
        float[][] results = new float[2][];
        for (int run = 0; run < 2; run++) {
            try (OpenClDevice d = new OpenClDevice(device)) {
                BitstreamProgramSource src = new ProgramStore(store, cache).install(d);
                results[run] = BitstreamStoreTest.saxpy(d, d.program(KernelFamily.SMOKE, ""), 3.25f, x, y);
                assertEquals(run == 0 ? ProgramOrigin.COMPILED : ProgramOrigin.CACHE, src.builds().getFirst().origin());
            }
        }
        assertArrayEquals(results[0], results[1]);
    }

    /** The warnings {@link BitstreamProgramSource} logs while {@code run} runs. */
    static List<String> warningsDuring(Runnable run) {
        var logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(BitstreamProgramSource.class);
        var appender = new ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent>();
        appender.start();
        logger.addAppender(appender);
        try {
            run.run();
        } finally {
            logger.detachAppender(appender);
        }
        return appender.list.stream().filter(e -> e.getLevel() == ch.qos.logback.classic.Level.WARN)
                .map(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage).toList();
    }

    @Test
    void aDamagedCacheEntryIsDiscardedAndRebuiltOnceWithAWarning(@TempDir Path store, @TempDir Path cache) throws IOException {
        Device device = cpu(Binding.PANAMA);
        Path bin = openAndBuild(device, store, cache).file();
        byte[] good = Files.readAllBytes(bin);
        byte[] bad = good.clone();
        bad[bad.length / 3] ^= 0x40;
        Files.write(bin, bad);

        ProgramBuild[] rebuiltHolder = new ProgramBuild[1];
        List<String> warnings = warningsDuring(() -> rebuiltHolder[0] = openAndBuild(device, store, cache));
        ProgramBuild rebuilt = rebuiltHolder[0];
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.getFirst().contains("is damaged (checksum sha256") && warnings.getFirst().contains("discarding it and compiling again"),
                warnings.getFirst());
        assertEquals(ProgramOrigin.COMPILED, rebuilt.origin());
        byte[] now = Files.readAllBytes(bin);
        assertFalse(java.util.Arrays.equals(bad, now), "the damaged binary was replaced");
        assertEquals(Sha256.of(now), BinaryFiles.read(bin.resolveSibling(bin.getFileName().toString().replace(".bin", ".json")))
                .manifest().binary().sha256(), "the replaced entry is consistent");
        assertEquals(List.of(), warningsDuring(() -> assertEquals(ProgramOrigin.CACHE, openAndBuild(device, store, cache).origin())),
                "the rebuilt entry loads without a word");
    }

    @Test
    void withoutACacheEveryOpenCompilesAndNothingIsWritten(@TempDir Path store, @TempDir Path cache) throws IOException {
        Device device = cpu(Binding.PANAMA);
        for (int i = 0; i < 2; i++) {
            try (OpenClDevice d = new OpenClDevice(device)) {
                BitstreamProgramSource src = new ProgramStore(store, cache).withoutCache().install(d);
                d.program(KernelFamily.SMOKE, "");
                assertEquals(ProgramOrigin.COMPILED, src.builds().getFirst().origin());
                assertEquals(null, src.builds().getFirst().file());
            }
        }
        try (Stream<Path> files = Files.list(cache)) {
            assertEquals(List.of(), files.toList());
        }
    }

    @Test
    void cacheWritesLeaveNoTemporaryFilesBehind(@TempDir Path store, @TempDir Path cache) throws IOException {
        openAndBuild(cpu(Binding.PANAMA), store, cache);
        try (Stream<Path> files = Files.list(cache)) {
            List<String> names = files.map(p -> p.getFileName().toString()).sorted().toList();
            assertEquals(2, names.size(), names.toString());
            assertTrue(names.get(0).endsWith(".bin") && names.get(1).endsWith(".json"), names.toString());
        }
    }

    @Test
    void theCacheKeyChangesWithDriverSourceAndOptions() {
        DeviceTarget t = new DeviceTarget("P", "V", "D", "DV", "1.0", "OpenCL 3.0", null, "abc");
        DeviceTarget newerDriver = new DeviceTarget("P", "V", "D", "DV", "1.1", "OpenCL 3.0", null, "abc");
        String k = ProgramCache.stem("smoke", t, "s1", "");
        assertNotEquals(k, ProgramCache.stem("smoke", newerDriver, "s1", ""));
        assertNotEquals(k, ProgramCache.stem("smoke", t, "s2", ""));
        assertNotEquals(k, ProgramCache.stem("smoke", t, "s1", "-D X=1"));
        assertEquals(k, ProgramCache.stem("smoke", t, "s1", ""));
    }
}
