package dev.biometry.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.biometry.api.Json;
import dev.biometry.api.OzError;
import java.math.BigDecimal;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/**
 * The leniency Oz clients rely on: JSON bodies whatever the declared content type (the iOS SDK sends JSON as
 * {@code application/x-www-form-urlencoded}), time filters in seconds or milliseconds.
 */
final class Lenient {

    /** Epoch values above this are milliseconds (1e11 s is the year 5138; 1e11 ms is 1973). */
    private static final double MILLIS_ABOVE = 1e11;

    private Lenient() {}

    /**
     * The body as a JSON object: raw JSON whatever the content type, else (a real form) URL-decoded JSON or the
     * form's fields as strings. Error 3 when it is not JSON.
     */
    static ObjectNode jsonObject(String body) {
        String text = body == null ? "" : body.strip();
        if (text.isEmpty()) {
            throw ApiError.structure("request body is empty: a JSON object is expected", null);
        }
        if (!text.startsWith("{") && !text.startsWith("[") && (text.contains("%7B") || text.contains("%7b"))) {
            text = URLDecoder.decode(text, StandardCharsets.UTF_8).strip();
            if (text.endsWith("=")) {
                text = text.substring(0, text.length() - 1);
            }
        }
        if (!text.startsWith("{") && !text.startsWith("[") && text.contains("=")) {
            ObjectNode form = Json.mapper().createObjectNode();
            for (String pair : text.split("&")) {
                int eq = pair.indexOf('=');
                if (eq > 0) {
                    form.put(
                            URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                            URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
                }
            }
            return form;
        }
        JsonNode node = parse(text, "request body");
        if (!node.isObject()) {
            throw ApiError.structure("request body must be a JSON object", null);
        }
        return (ObjectNode) node;
    }

    /** Parses JSON text; error 3 naming {@code what} when malformed. */
    static JsonNode parse(String text, String what) {
        try {
            JsonNode node = Json.mapper().readTree(text);
            if (node == null || node.isMissingNode()) {
                throw ApiError.structure(what + " is empty", what);
            }
            return node;
        } catch (JsonProcessingException e) {
            throw ApiError.structure("malformed JSON in " + what + ": " + e.getOriginalMessage(), what);
        }
    }

    /** A time filter in epoch seconds or milliseconds (int or fraction) as epoch ms; null when absent. */
    static Long epochMillis(String value, String name) {
        if (value == null || value.isBlank()) {
            return null;
        }
        try {
            BigDecimal v = new BigDecimal(value.strip());
            return v.doubleValue() > MILLIS_ABOVE
                    ? v.longValue()
                    : v.movePointRight(3).longValue();
        } catch (NumberFormatException e) {
            throw new ApiError(OzError.INVALID_TYPE, name + " must be epoch seconds or milliseconds", name);
        }
    }

    static int intParam(String value, String name, int defaultValue, int min, int max) {
        if (value == null || value.isBlank()) {
            return defaultValue;
        }
        try {
            int v = Integer.parseInt(value.strip());
            if (v < min || v > max) {
                throw ApiError.value(name + " must be between " + min + " and " + max, name);
            }
            return v;
        } catch (NumberFormatException e) {
            throw new ApiError(OzError.INVALID_TYPE, name + " must be an integer", name);
        }
    }
}
