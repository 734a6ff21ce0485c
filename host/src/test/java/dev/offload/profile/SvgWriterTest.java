package dev.offload.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

class SvgWriterTest {
    @Test
    void writesWellFormedSvgWithEscapedTextAndCompactNumbers() throws Exception {
        String svg = new SvgWriter(200, 100)
                .text(8, 18.5, "a < b & \"c\"", "text-anchor=\"end\"")
                .rect(1.234, 2, 30.5, 4, "#123456", "tip <1>")
                .rect(0, 0, 1, 1, "red", null)
                .line(0, 1, 2, 3, "#999")
                .finish();
        Document d = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
        assertEquals("svg", d.getDocumentElement().getTagName());
        Element text = (Element) d.getElementsByTagName("text").item(0);
        assertEquals("a < b & \"c\"", text.getTextContent());
        assertEquals("end", text.getAttribute("text-anchor"));
        assertEquals("18.5", text.getAttribute("y"));
        Element bar = (Element) d.getElementsByTagName("rect").item(1); // item(0) is the white background
        assertEquals("1.23", bar.getAttribute("x"));
        assertEquals("2", bar.getAttribute("y"));
        assertEquals("tip <1>", bar.getElementsByTagName("title").item(0).getTextContent());
        assertEquals(4, d.getElementsByTagName("rect").getLength() + d.getElementsByTagName("line").getLength());
        assertTrue(svg.endsWith("</svg>\n"));
    }
}
