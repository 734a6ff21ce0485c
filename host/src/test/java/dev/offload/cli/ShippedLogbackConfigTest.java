package dev.offload.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.io.InputStream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;

/**
 * The logback.xml shipped in offload.jar is well-formed XML. Tests run with logback-test.xml instead, so nothing else
 * would notice a broken one; logback would then print its whole status report on stdout at every start of the CLI.
 */
class ShippedLogbackConfigTest {
    @Test
    void isWellFormedXml() throws Exception {
        try (InputStream in = ShippedLogbackConfigTest.class.getClassLoader().getResourceAsStream("logback.xml")) {
            assertNotNull(in, "logback.xml is not on the class path");
            assertEquals("configuration", DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(in)
                    .getDocumentElement().getTagName());
        }
    }
}
