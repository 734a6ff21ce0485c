package dev.offload.bitstream;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * Best-effort reader of the kernels in a Xilinx {@code .xclbin}: the file starts with the magic
 * {@code xclbin2}, and its EMBEDDED_METADATA section is an XML document ({@code <project>} ...
 * {@code <kernel name="..."><arg name="..." addressQualifier="1" type="int*"/>}). Rather than walk the
 * section table, whose layout changed across Vitis releases, it finds that XML text in the file bytes.
 */
final class XclbinReader {
    private XclbinReader() {}

    static final String MAGIC = "xclbin2";

    static boolean isXclbin(byte[] file) {
        byte[] m = MAGIC.getBytes(StandardCharsets.US_ASCII);
        if (file.length < m.length) return false;
        for (int i = 0; i < m.length; i++) if (file[i] != m[i]) return false;
        return true;
    }

    /** The kernels the embedded metadata lists (empty when the file has none that parses). */
    static List<BitstreamManifest.KernelEntry> kernels(byte[] file) {
        String text = new String(file, StandardCharsets.ISO_8859_1); // one char per byte: offsets stay byte offsets
        int start = text.indexOf("<project");
        int end = start < 0 ? -1 : text.indexOf("</project>", start);
        if (start < 0 || end < 0) return List.of();
        int xmlDecl = text.lastIndexOf("<?xml", start);
        if (xmlDecl >= 0 && start - xmlDecl < 200) start = xmlDecl;
        byte[] xml = java.util.Arrays.copyOfRange(file, start, end + "</project>".length());
        Document doc;
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            doc = f.newDocumentBuilder().parse(new ByteArrayInputStream(xml));
        } catch (Exception e) {
            return List.of();
        }
        Map<String, BitstreamManifest.KernelEntry> byName = new LinkedHashMap<>();
        NodeList kernels = doc.getElementsByTagName("kernel");
        for (int i = 0; i < kernels.getLength(); i++) {
            Element k = (Element) kernels.item(i);
            String name = k.getAttribute("name");
            if (name.isEmpty() || byName.containsKey(name)) continue;
            List<BitstreamManifest.Arg> args = new ArrayList<>();
            NodeList argNodes = k.getElementsByTagName("arg");
            for (int j = 0; j < argNodes.getLength(); j++) {
                Element a = (Element) argNodes.item(j);
                String space = switch (a.getAttribute("addressQualifier")) {
                    case "1" -> "global";
                    case "2" -> "constant";
                    case "3" -> "local";
                    case "4" -> "stream";
                    default -> "private";
                };
                String type = a.getAttribute("type");
                args.add(new BitstreamManifest.Arg(args.size(), a.getAttribute("name"), type, space,
                        ("private".equals(space) ? "" : space + " ") + type));
            }
            byName.put(name, new BitstreamManifest.KernelEntry(name, args.size(), args, null));
        }
        return List.copyOf(byName.values());
    }
}
