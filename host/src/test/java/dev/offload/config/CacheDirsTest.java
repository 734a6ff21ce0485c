package dev.offload.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class CacheDirsTest {
    @Test
    void offloadCacheDirWinsOverXdgAndHome() {
        CacheDirs c = CacheDirs.resolve(" /tmp/oc ", "/tmp/xdg", "/home/u");
        assertEquals(Path.of("/tmp/oc"), c.root());
        assertEquals(Path.of("/tmp/oc/programs"), c.programs());
        assertEquals(Path.of("/tmp/oc/tuning.json"), c.tuningFile());
        assertEquals(Path.of("/tmp/oc/autoplace.json"), c.autoplaceFile());
    }

    @Test
    void xdgCacheHomeIsHonouredByEveryCache() {
        CacheDirs c = CacheDirs.resolve(null, "/tmp/xdg", "/home/u");
        assertEquals(Path.of("/tmp/xdg/offload/programs"), c.programs());
        assertEquals(Path.of("/tmp/xdg/offload/tuning.json"), c.tuningFile());
        assertEquals(Path.of("/tmp/xdg/offload/autoplace.json"), c.autoplaceFile());
    }

    @Test
    void homeIsTheFallbackAndBlankMeansUnset() {
        assertEquals(Path.of("/home/u/.cache/offload"), CacheDirs.resolve("  ", "", "/home/u").root());
    }
}
