package dev.offload.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.core.status.Status;
import java.net.URL;
import org.junit.jupiter.api.Test;

/**
 * The logging configuration users get (src/main/resources/logback.xml; the tests themselves run with logback-test.xml):
 * it parses, logs only warnings unless asked, and shows progress lines.
 */
class LoggingConfigTest {
    @Test
    void theShippedConfigurationIsQuietButShowsProgress() throws Exception {
        URL config = getClass().getClassLoader().getResource("logback.xml");
        assertTrue(config != null && config.getPath().contains("classes"), "the main logback.xml is on the class path: " + config);
        LoggerContext ctx = new LoggerContext();
        JoranConfigurator joran = new JoranConfigurator();
        joran.setContext(ctx);
        joran.doConfigure(config);
        for (Status s : ctx.getStatusManager().getCopyOfStatusList()) {
            assertTrue(s.getLevel() < Status.WARN, "logback.xml: " + s.getMessage());
        }
        assertEquals(Level.WARN, ctx.getLogger("dev.offload.runtime.GraphRuntime").getEffectiveLevel());
        assertEquals(Level.INFO, ctx.getLogger("dev.offload.progress").getEffectiveLevel());
        ctx.stop();
    }
}
