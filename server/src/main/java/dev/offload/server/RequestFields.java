package dev.offload.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A request's JSON object with typed, checked field access: a field of the wrong type or out of range is an
 * {@link ApiException} naming it (OpenAI's {@code param}). JSON {@code null} reads as absent, as OpenAI's API treats it.
 */
final class RequestFields {
    static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY);

    static {
        // Nesting deeper than any OpenAI request needs is refused early (a cheap guard against stack-eating bodies).
        JSON.getFactory().setStreamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build());
    }

    private final ObjectNode body;

    private RequestFields(ObjectNode body) { this.body = body; }

    /** Parses a request body; anything but one JSON object is a 400. */
    static RequestFields parse(byte[] bytes) {
        JsonNode node;
        try {
            node = JSON.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw ApiException.malformedJson(e.getOriginalMessage());
        } catch (IOException e) {
            throw ApiException.malformedJson(e.getMessage());
        }
        if (node == null || node.isMissingNode()) throw ApiException.malformedJson("the body is empty");
        if (!(node instanceof ObjectNode o)) throw ApiException.malformedJson("the body is a JSON " + node.getNodeType().name().toLowerCase() + ", not an object");
        return new RequestFields(o);
    }

    /** The raw field, or null when absent or JSON null. */
    JsonNode node(String name) {
        JsonNode n = body.get(name);
        return n == null || n.isNull() ? null : n;
    }

    boolean has(String name) { return node(name) != null; }

    String string(String name, String otherwise) {
        JsonNode n = node(name);
        if (n == null) return otherwise;
        if (!n.isTextual()) throw ApiException.invalid(name, "'" + name + "' must be a string");
        return n.textValue();
    }

    String requiredString(String name) {
        String s = string(name, null);
        if (s == null) throw ApiException.invalid(name, "you must provide '" + name + "'");
        return s;
    }

    boolean bool(String name, boolean otherwise) {
        JsonNode n = node(name);
        if (n == null) return otherwise;
        if (!n.isBoolean()) throw ApiException.invalid(name, "'" + name + "' must be true or false");
        return n.booleanValue();
    }

    /** A number within [min, max]. */
    double number(String name, double otherwise, double min, double max) {
        JsonNode n = node(name);
        if (n == null) return otherwise;
        if (!n.isNumber()) throw ApiException.invalid(name, "'" + name + "' must be a number");
        double v = n.doubleValue();
        if (!(v >= min && v <= max)) throw ApiException.invalid(name, "'" + name + "' must be between " + min + " and " + max + ", got " + v);
        return v;
    }

    /** A whole number within [min, max]. */
    long integer(String name, long otherwise, long min, long max) {
        JsonNode n = node(name);
        if (n == null) return otherwise;
        if (!n.isIntegralNumber() || !n.canConvertToLong()) throw ApiException.invalid(name, "'" + name + "' must be an integer");
        long v = n.longValue();
        if (v < min || v > max) throw ApiException.invalid(name, "'" + name + "' must be between " + min + " and " + max + ", got " + v);
        return v;
    }

    /** A string or an array of strings (OpenAI's {@code input}, {@code prompt}, {@code stop}); null when absent. */
    List<String> strings(String name, int maxCount) {
        JsonNode n = node(name);
        if (n == null) return null;
        List<String> out = new ArrayList<>();
        if (n.isTextual()) {
            out.add(n.textValue());
        } else if (n.isArray()) {
            for (JsonNode e : n) {
                if (!e.isTextual()) throw ApiException.invalid(name, "'" + name + "' must be a string or an array of strings (token arrays are not supported)");
                out.add(e.textValue());
            }
        } else {
            throw ApiException.invalid(name, "'" + name + "' must be a string or an array of strings");
        }
        if (out.size() > maxCount) throw ApiException.invalid(name, "'" + name + "' holds " + out.size() + " items; at most " + maxCount + " are accepted");
        return out;
    }
}
