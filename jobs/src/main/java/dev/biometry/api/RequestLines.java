package dev.biometry.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * Request lines from a JSON-lines file (local and batch runs): inline media URIs without a scheme are paths
 * relative to the file's folder and are made absolute {@code file://} URIs; analyses without an id get one, so that
 * their results can be awaited. A line that is not a JSON object is passed on unchanged (it becomes a dead letter).
 */
public final class RequestLines {

    /** A prepared line: its folder (the Kafka key; null if unknown), JSON text, and the analysis ids it asks for. */
    public record Line(String folderId, String json, List<String> analyseIds) {}

    private RequestLines() {}

    public static Line prepare(String raw, Path base, Supplier<String> idGenerator) {
        return prepare(raw, uri -> absoluteUri(uri, base), idGenerator);
    }

    /** As {@link #prepare(String, Path, Supplier)}, relative URIs resolved against a folder URI (s3://bucket/dir). */
    public static Line prepare(String raw, URI baseFolder, Supplier<String> idGenerator) {
        return prepare(raw, uri -> absoluteUri(uri, baseFolder), idGenerator);
    }

    private static Line prepare(String raw, UnaryOperator<String> absolute, Supplier<String> idGenerator) {
        JsonNode node;
        try {
            node = Json.mapper().readTree(raw);
        } catch (IOException e) {
            return new Line(null, raw, List.of());
        }
        if (!(node instanceof ObjectNode request)) {
            return new Line(null, raw, List.of());
        }
        if (request.get("media") instanceof ArrayNode media) {
            for (JsonNode m : media) {
                if (m instanceof ObjectNode mo
                        && mo.get("uri") != null
                        && mo.get("uri").isTextual()) {
                    mo.put("uri", absolute.apply(mo.get("uri").asText()));
                }
            }
        }
        List<String> ids = new ArrayList<>();
        if (request.get("analyses") instanceof ArrayNode analyses) {
            for (JsonNode a : analyses) {
                if (a instanceof ObjectNode ao) {
                    JsonNode id = ao.has("analyse_id") ? ao.get("analyse_id") : ao.get("analysis_id");
                    if (id == null || id.isNull()) {
                        ao.put("analyse_id", idGenerator.get());
                        id = ao.get("analyse_id");
                    }
                    ids.add(id.asText());
                }
            }
        }
        String folder = request.get("folder_id") == null
                ? null
                : request.get("folder_id").asText();
        return new Line(folder, Json.write(request), ids);
    }

    /**
     * How many analyses a line counts for in batch progress: the analyses it asks for, at least 1 (a line that asks
     * for none, or is not JSON, becomes one dead letter).
     */
    public static int analysesCounted(String raw) {
        return Math.max(
                1, prepare(raw, UnaryOperator.identity(), () -> "").analyseIds().size());
    }

    /** A URI without a scheme is a path relative to {@code base}. */
    public static String absoluteUri(String uri, Path base) {
        if (hasScheme(uri)) {
            return uri;
        }
        try {
            return base.resolve(uri).normalize().toUri().toString();
        } catch (InvalidPathException e) {
            return uri; // left as it is: validation or the media fetch reports it
        }
    }

    /**
     * A URI without a scheme is a path relative to the folder {@code baseFolder} of any file system
     * ({@code photos/a.jpg} against {@code s3://bucket/batch} is {@code s3://bucket/batch/photos/a.jpg}).
     */
    public static String absoluteUri(String uri, URI baseFolder) {
        if (hasScheme(uri)) {
            return uri;
        }
        String path = baseFolder.getPath() == null || baseFolder.getPath().isEmpty() ? "/" : baseFolder.getPath();
        try {
            URI folder = new URI(
                    baseFolder.getScheme(),
                    baseFolder.getAuthority(),
                    path.endsWith("/") ? path : path + "/",
                    null,
                    null);
            return folder.resolve(new URI(null, null, uri, null)).normalize().toString();
        } catch (URISyntaxException e) {
            return uri; // left as it is: the media fetch reports it as an invalid URI
        }
    }

    private static boolean hasScheme(String uri) {
        return uri.matches("^[a-zA-Z][a-zA-Z0-9+.-]*:.*");
    }
}
