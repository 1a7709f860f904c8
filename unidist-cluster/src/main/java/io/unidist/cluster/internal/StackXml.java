package io.unidist.cluster.internal;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import javax.xml.XMLConstants;
import javax.xml.parsers.ParserConfigurationException;
import javax.xml.parsers.SAXParser;
import javax.xml.parsers.SAXParserFactory;
import org.xml.sax.Attributes;
import org.xml.sax.Locator;
import org.xml.sax.SAXException;
import org.xml.sax.SAXParseException;
import org.xml.sax.helpers.DefaultHandler;

/**
 * Checks that a JGroups configuration is well-formed XML, with a real (line-aware) parser, and returns the line of
 * each protocol element.
 *
 * <p>Why: JGroups reads its XML with a hand-written scanner whose errors name neither line nor element, and which
 * accepts some broken files silently. We parse first so that a typo is reported as "file, line, column: reason";
 * JGroups' own reader then builds the configuration, so a file means exactly what it means to JGroups.
 *
 * <p>DTDs and external entities are refused: a configuration file has no use for them, and they are how XML
 * parsers are made to read other files.
 */
final class StackXml {

    /** A protocol element of the file: its name as written ({@code pbcast.GMS}) and the line its tag starts on. */
    record Element(String name, int line) {}

    private StackXml() {}

    /**
     * Returns the protocol elements (children of {@code <config>}) in file order.
     *
     * @throws IllegalArgumentException naming {@code source} and the line if the XML is not well-formed or the root
     *                                  element is not {@code config}
     */
    static List<Element> protocols(byte[] xml, String source) {
        Collector collector = new Collector(new String(xml, StandardCharsets.UTF_8));
        try {
            newParser().parse(new ByteArrayInputStream(xml), collector);
        } catch (SAXParseException e) {
            throw new IllegalArgumentException(String.format("%s line %d, column %d: not well-formed XML: %s",
                    source, e.getLineNumber(), e.getColumnNumber(), e.getMessage()), e);
        } catch (SAXException | IOException e) {
            throw new IllegalArgumentException(source + ": cannot read the XML: " + e.getMessage(), e);
        }
        if (collector.root == null || !collector.root.equalsIgnoreCase("config")) {
            throw new IllegalArgumentException(String.format(
                    "%s: the root element is <%s>; a JGroups configuration starts with <config>", source, collector.root));
        }
        return collector.protocols;
    }

    private static SAXParser newParser() {
        try {
            SAXParserFactory factory = SAXParserFactory.newInstance();
            factory.setNamespaceAware(false); // names stay as written: "pbcast.GMS", "raft.RAFT"
            factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            return factory.newSAXParser();
        } catch (ParserConfigurationException | SAXException e) {
            throw new IllegalStateException("the JDK's SAX parser cannot be configured: " + e.getMessage(), e);
        }
    }

    /** Collects the root name and the direct children of the root, with their lines. */
    private static final class Collector extends DefaultHandler {
        final List<Element> protocols = new ArrayList<>();
        String root;
        private final String[] lines;
        private Locator locator;
        private int depth;

        Collector(String text) {
            this.lines = text.split("\\R", -1);
        }

        @Override
        public void setDocumentLocator(Locator locator) {
            this.locator = locator;
        }

        @Override
        public void startElement(String uri, String localName, String qName, Attributes attributes) {
            if (depth == 0) {
                root = qName;
            } else if (depth == 1) {
                protocols.add(new Element(qName, startLine(qName)));
            }
            depth++;
        }

        /**
         * SAX reports where a start tag ends; a protocol's attributes often span lines, so look back for where the
         * tag opens, which is the line a reader looks for.
         */
        private int startLine(String qName) {
            if (locator == null) {
                return -1;
            }
            int end = locator.getLineNumber();
            String open = "<" + qName;
            for (int line = end; line >= 1 && line > end - 200; line--) {
                if (line <= lines.length && lines[line - 1].contains(open)) {
                    return line;
                }
            }
            return end;
        }

        @Override
        public void endElement(String uri, String localName, String qName) {
            depth--;
        }
    }
}
