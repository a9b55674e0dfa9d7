package dev.biometry.api;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Parses and validates the two JSON input topics ({@code biometry.media} and {@code biometry.requests}) into
 * {@link MediaRef} and {@link RequestEnvelope}. Every record that cannot be used becomes a {@link DeadLetter}
 * carrying the Oz error code (spec §6): 3 INVALID STRUCTURE (empty, not UTF-8, not JSON, not an object, required
 * field missing), 4 INVALID VALUE (bad value, too large) or 5 INVALID TYPE (wrong JSON type), with the JSON path
 * of the offending field as {@code details}. The first problem found rejects the whole record.
 *
 * <p>A JSON {@code null} is treated like an absent field. Unknown fields are ignored. Sizes are capped by
 * {@link InputLimits} (error 4, so that every output derived from a record stays bounded), every string must be valid
 * Unicode (no lone UTF-16 surrogate), client strings are quoted in messages only as short {@link Excerpt}s, and a dead
 * letter carries at most {@link InputLimits#maxDeadLetterPayloadBytes()} of the record.
 */
public final class InputParser {

    /**
     * Largest accepted message, in bytes (1 MiB). Larger messages are rejected with error 4 before parsing, and
     * their dead letter carries no payload so that it stays writable to the dead-letter topic.
     */
    public static final int MAX_MESSAGE_BYTES = 1024 * 1024;

    /** Longest accepted {@code folder_id}, {@code media_id} or {@code analyse_id}, in chars. */
    public static final int MAX_ID_LENGTH = 256;

    /** The only analysis {@code type} this engine runs (matched case-insensitively). */
    public static final String ANALYSIS_TYPE_BIOMETRY = "biometry";

    private static final ObjectReader JSON_READER =
            Json.mapper().reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final int MAX_JSON_REASON_LENGTH = 200;

    private final InputLimits limits;

    private InputParser(InputLimits limits) {
        this.limits = Objects.requireNonNull(limits, "limits");
    }

    /** Parses one {@code biometry.media} record. */
    public static ParseResult<MediaRef> parseMedia(byte[] value, SourceRef source) {
        return parseMedia(value, source, InputLimits.DEFAULTS);
    }

    /** Parses one {@code biometry.media} record under {@code limits}. */
    public static ParseResult<MediaRef> parseMedia(byte[] value, SourceRef source, InputLimits limits) {
        InputParser parser = new InputParser(limits);
        return parser.parse(value, source, root -> parser.readMedia(root, "", null));
    }

    /**
     * Parses one {@code biometry.requests} record.
     *
     * @param nowMillis when the record was read (epoch ms); becomes every analysis' {@code requestedAtMillis}
     * @param idGenerator supplies the {@code analyse_id} of each analysis that has none
     */
    public static ParseResult<RequestEnvelope> parseRequest(
            byte[] value, SourceRef source, long nowMillis, Supplier<String> idGenerator) {
        return parseRequest(value, source, nowMillis, idGenerator, InputLimits.DEFAULTS);
    }

    /** As {@link #parseRequest(byte[], SourceRef, long, Supplier)}, under {@code limits}. */
    public static ParseResult<RequestEnvelope> parseRequest(
            byte[] value, SourceRef source, long nowMillis, Supplier<String> idGenerator, InputLimits limits) {
        Objects.requireNonNull(idGenerator, "idGenerator");
        InputParser parser = new InputParser(limits);
        return parser.parse(value, source, root -> parser.readRequest(root, source, nowMillis, idGenerator));
    }

    /**
     * The dead-letter topic JSON: {@code error_code}, {@code error_message}, {@code details}, {@code source}
     * ({@code topic}, {@code partition}, {@code offset}), {@code payload} and {@code payload_encoding}
     * ({@code utf-8} or {@code base64}), and {@code payload_truncated: true} when the payload is only the start of
     * the record (or absent because of its size).
     */
    public static String toJson(DeadLetter deadLetter) {
        ObjectNode json = Json.mapper().createObjectNode();
        json.put("error_code", deadLetter.errorCode());
        json.put("error_message", deadLetter.errorMessage());
        json.put("details", deadLetter.details());
        ObjectNode source = json.putObject("source");
        source.put("topic", deadLetter.sourceTopic());
        source.put("partition", deadLetter.sourcePartition());
        source.put("offset", deadLetter.sourceOffset());
        json.put("payload", deadLetter.payload());
        json.put("payload_encoding", deadLetter.payloadBase64() ? "base64" : "utf-8");
        if (deadLetter.payloadTruncated()) {
            json.put("payload_truncated", true);
        }
        return json.toString();
    }

    private interface RootReader<T> {
        T read(ObjectNode root) throws InvalidInput;
    }

    private <T> ParseResult<T> parse(byte[] value, SourceRef source, RootReader<T> reader) {
        Objects.requireNonNull(source, "source");
        if (value == null || value.length == 0) {
            return reject(
                    new InvalidInput(OzError.INVALID_STRUCTURE, "empty message", null),
                    source,
                    value == null ? null : "",
                    false);
        }
        if (value.length > MAX_MESSAGE_BYTES) {
            return reject(
                    new InvalidInput(
                            OzError.INVALID_VALUE,
                            "message of " + value.length + " bytes exceeds the limit of " + MAX_MESSAGE_BYTES
                                    + " bytes",
                            null),
                    source,
                    null,
                    false);
        }
        String text;
        try {
            text = decodeUtf8(value);
        } catch (CharacterCodingException e) {
            return reject(
                    new InvalidInput(OzError.INVALID_STRUCTURE, "message is not valid UTF-8", null),
                    source,
                    Base64.getEncoder().encodeToString(value),
                    true);
        }
        try {
            return ParseResult.ok(reader.read(readJsonObject(text)));
        } catch (InvalidInput e) {
            return reject(e, source, text, false);
        }
    }

    private <T> ParseResult<T> reject(InvalidInput e, SourceRef source, String payload, boolean base64) {
        return ParseResult.rejected(new DeadLetter(
                        e.code,
                        e.getMessage(),
                        e.path,
                        source.topic(),
                        source.partition(),
                        source.offset(),
                        payload,
                        base64)
                .withPayloadCapped(limits.maxDeadLetterPayloadBytes()));
    }

    private String decodeUtf8(byte[] value) throws CharacterCodingException {
        return StandardCharsets.UTF_8
                .newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(value))
                .toString();
    }

    private ObjectNode readJsonObject(String text) throws InvalidInput {
        JsonNode root;
        try {
            root = JSON_READER.readTree(text);
        } catch (JsonProcessingException e) {
            throw new InvalidInput(OzError.INVALID_STRUCTURE, "malformed JSON: " + shortReason(e), null);
        }
        // Whitespace-only text parses to "no content" rather than failing.
        if (root == null || root.isMissingNode()) {
            throw new InvalidInput(OzError.INVALID_STRUCTURE, "malformed JSON: no content", null);
        }
        if (!root.isObject()) {
            throw new InvalidInput(OzError.INVALID_STRUCTURE, "message must be a JSON object", null);
        }
        return (ObjectNode) root;
    }

    /** Jackson's one-line reason plus line and column, without the source excerpt or a stack trace. */
    private String shortReason(JsonProcessingException e) {
        String reason =
                String.valueOf(e.getOriginalMessage()).replaceAll("\\s+", " ").trim();
        if (reason.length() > MAX_JSON_REASON_LENGTH) {
            reason = reason.substring(0, MAX_JSON_REASON_LENGTH) + "...";
        }
        JsonLocation location = e.getLocation();
        return location == null
                ? reason
                : reason + " (line " + location.getLineNr() + ", column " + location.getColumnNr() + ")";
    }

    private RequestEnvelope readRequest(ObjectNode root, SourceRef source, long nowMillis, Supplier<String> idGenerator)
            throws InvalidInput {
        String folderId = requiredId(root, "", "folder_id");
        JsonNode analysesNode = requiredArray(root, "", "analyses");
        if (analysesNode.isEmpty()) {
            throw InvalidInput.value("analyses", "must not be empty");
        }
        String resolutionEndpoint = optionalString(root, "", "resolution_endpoint");
        if (resolutionEndpoint != null) {
            requireMaxLength(resolutionEndpoint, InputLimits.MAX_URI_CHARS, "resolution_endpoint");
            requireHttpUri(resolutionEndpoint, "resolution_endpoint");
        }
        MediaRef[] media = readInlineMedia(root, folderId);

        List<AnalysisRequest> analyses = new ArrayList<>();
        Set<String> analyseIds = new HashSet<>();
        for (int i = 0; i < analysesNode.size(); i++) {
            String path = "analyses[" + i + "]";
            AnalysisRequest analysis = readAnalysis(
                    requireObject(analysesNode.get(i), path),
                    path,
                    folderId,
                    resolutionEndpoint,
                    source,
                    nowMillis,
                    idGenerator);
            if (!analyseIds.add(analysis.analyseId())) {
                throw InvalidInput.value(
                        path + ".analyse_id",
                        "duplicates an earlier analyse_id in this message: " + Excerpt.of(analysis.analyseId()));
            }
            analyses.add(analysis);
        }
        return new RequestEnvelope(folderId, media, analyses.toArray(AnalysisRequest[]::new));
    }

    private MediaRef[] readInlineMedia(ObjectNode root, String folderId) throws InvalidInput {
        JsonNode mediaNode = optional(root, "media");
        if (mediaNode == null) {
            return new MediaRef[0];
        }
        if (!mediaNode.isArray()) {
            throw InvalidInput.type("media", "must be an array");
        }
        if (mediaNode.size() > limits.maxMediaPerFolder()) {
            throw InvalidInput.value(
                    "media",
                    "has " + mediaNode.size() + " media; at most " + limits.maxMediaPerFolder()
                            + " are allowed per folder");
        }
        MediaRef[] media = new MediaRef[mediaNode.size()];
        Set<String> mediaIds = new HashSet<>();
        for (int i = 0; i < media.length; i++) {
            String path = "media[" + i + "]";
            media[i] = readMedia(requireObject(mediaNode.get(i), path), path, folderId);
            if (!mediaIds.add(media[i].mediaId())) {
                throw InvalidInput.value(
                        path + ".media_id",
                        "duplicates an earlier media_id in this message: " + Excerpt.of(media[i].mediaId()));
            }
        }
        return media;
    }

    private AnalysisRequest readAnalysis(
            ObjectNode node,
            String path,
            String folderId,
            String resolutionEndpoint,
            SourceRef source,
            long nowMillis,
            Supplier<String> idGenerator)
            throws InvalidInput {
        String type = requiredString(node, path, "type");
        if (!type.toLowerCase(Locale.ROOT).equals(ANALYSIS_TYPE_BIOMETRY)) {
            throw InvalidInput.value(
                    child(path, "type"), "\"" + Excerpt.of(type) + "\" is not supported: only biometry is supported");
        }
        String analyseId = optionalId(node, path, "analyse_id");
        String analysisId = optionalId(node, path, "analysis_id");
        if (analyseId != null && analysisId != null && !analyseId.equals(analysisId)) {
            throw InvalidInput.value(child(path, "analysis_id"), "differs from " + child(path, "analyse_id"));
        }
        String id = analyseId != null ? analyseId : analysisId != null ? analysisId : idGenerator.get();

        String[] sourceMedia = readSourceMedia(node, path);

        Double threshold = null;
        Double thresholdMin = null;
        JsonNode params = optional(node, "params");
        if (params != null) {
            String paramsPath = child(path, "params");
            ObjectNode paramsObject = requireObject(params, paramsPath);
            threshold = optionalProbability(paramsObject, paramsPath, "threshold");
            thresholdMin = optionalProbability(paramsObject, paramsPath, "threshold_min");
            // threshold_max is sent by some clients; it has no meaning here but must still be well-formed.
            optionalProbability(paramsObject, paramsPath, "threshold_max");
            // Without params.threshold the job's --threshold applies, which the parser does not know: the folder
            // join checks threshold_min against it (a FAILED analysis with error 4 rather than a dead letter).
            if (threshold != null && AnalysisParams.thresholdMinAbove(thresholdMin, threshold)) {
                throw InvalidInput.value(
                        child(paramsPath, "threshold_min"), "must not exceed threshold (" + threshold + ")");
            }
        }
        return new AnalysisRequest(
                folderId,
                id,
                sourceMedia,
                threshold,
                thresholdMin,
                optionalMetaData(node, path),
                resolutionEndpoint,
                nowMillis,
                source);
    }

    /** Null when absent (= every media of the folder); otherwise the distinct ids in first-seen order. */
    private String[] readSourceMedia(ObjectNode node, String path) throws InvalidInput {
        JsonNode sourceMedia = optional(node, "source_media");
        if (sourceMedia == null) {
            return null;
        }
        String sourceMediaPath = child(path, "source_media");
        if (!sourceMedia.isArray()) {
            throw InvalidInput.type(sourceMediaPath, "must be an array of media ids");
        }
        if (sourceMedia.isEmpty()) {
            throw InvalidInput.value(sourceMediaPath, "must not be empty (omit it to use every media of the folder)");
        }
        Set<String> ids = new LinkedHashSet<>();
        for (int i = 0; i < sourceMedia.size(); i++) {
            String elementPath = sourceMediaPath + "[" + i + "]";
            ids.add(requireId(requireString(sourceMedia.get(i), elementPath), elementPath));
            if (ids.size() > limits.maxMediaPerAnalysis()) {
                throw InvalidInput.value(
                        sourceMediaPath,
                        "names more than " + limits.maxMediaPerAnalysis() + " media; at most "
                                + limits.maxMediaPerAnalysis() + " are allowed per analysis");
            }
        }
        return ids.toArray(String[]::new);
    }

    /**
     * Reads a media reference; {@code requestFolderId} is null for a media-topic record (folder_id required)
     * and the request's folder for an inline media (folder_id optional, but must match when given).
     */
    private MediaRef readMedia(ObjectNode node, String path, String requestFolderId) throws InvalidInput {
        String folderId;
        if (requestFolderId == null) {
            folderId = requiredId(node, path, "folder_id");
        } else {
            String given = optionalId(node, path, "folder_id");
            if (given != null && !given.equals(requestFolderId)) {
                throw InvalidInput.value(child(path, "folder_id"), "must equal the request's folder_id");
            }
            folderId = requestFolderId;
        }
        String mediaId = requiredId(node, path, "media_id");
        MediaType mediaType = readMediaType(requiredString(node, path, "media_type"), child(path, "media_type"));
        String[] tags = readTags(node, path);
        String uri = requiredString(node, path, "uri");
        requireMaxLength(uri, InputLimits.MAX_URI_CHARS, child(path, "uri"));
        requireAbsoluteUri(uri, child(path, "uri"));
        String originalName = optionalString(node, path, "original_name");
        if (originalName != null) {
            requireMaxLength(originalName, limits.maxOriginalNameChars(), child(path, "original_name"));
        }
        return new MediaRef(folderId, mediaId, mediaType, tags, uri, originalName, optionalMetaData(node, path));
    }

    private MediaType readMediaType(String text, String path) throws InvalidInput {
        for (MediaType type : MediaType.values()) {
            if (type.name().equals(text)) {
                return type;
            }
        }
        throw InvalidInput.value(path, "must be one of IMAGE_FOLDER, VIDEO_FOLDER, SHOTS_SET");
    }

    private String[] readTags(ObjectNode node, String path) throws InvalidInput {
        JsonNode tags = optional(node, "tags");
        if (tags == null) {
            return new String[0];
        }
        String tagsPath = child(path, "tags");
        if (!tags.isArray()) {
            throw InvalidInput.type(tagsPath, "must be an array of strings");
        }
        if (tags.size() > InputLimits.MAX_TAGS) {
            throw InvalidInput.value(
                    tagsPath, "has " + tags.size() + " tags; at most " + InputLimits.MAX_TAGS + " are allowed");
        }
        String[] result = new String[tags.size()];
        for (int i = 0; i < result.length; i++) {
            String tagPath = tagsPath + "[" + i + "]";
            result[i] = requireMaxLength(requireString(tags.get(i), tagPath), InputLimits.MAX_TAG_CHARS, tagPath);
        }
        return result;
    }

    private void requireAbsoluteUri(String text, String path) throws InvalidInput {
        if (parseUri(text, path).getScheme() == null) {
            throw InvalidInput.value(path, "must be an absolute URI with a scheme");
        }
    }

    private void requireHttpUri(String text, String path) throws InvalidInput {
        URI uri = parseUri(text, path);
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null) {
            throw InvalidInput.value(path, "must be an absolute http(s) URI");
        }
    }

    private URI parseUri(String text, String path) throws InvalidInput {
        if (text.isBlank()) {
            throw InvalidInput.value(path, "must not be blank");
        }
        try {
            return new URI(text);
        } catch (URISyntaxException e) {
            throw InvalidInput.value(path, "is not a valid URI: " + e.getReason());
        }
    }

    private Double optionalProbability(ObjectNode node, String path, String field) throws InvalidInput {
        JsonNode value = optional(node, field);
        if (value == null) {
            return null;
        }
        String fieldPath = child(path, field);
        if (!value.isNumber()) {
            throw InvalidInput.type(fieldPath, "must be a number");
        }
        double number = value.doubleValue();
        if (!(number >= 0.0 && number <= 1.0)) {
            throw InvalidInput.value(fieldPath, "must be between 0 and 1");
        }
        return number;
    }

    /** The {@code meta_data} object as compact JSON text, or null when absent. */
    private String optionalMetaData(ObjectNode node, String path) throws InvalidInput {
        JsonNode metaData = optional(node, "meta_data");
        if (metaData == null) {
            return null;
        }
        String metaPath = child(path, "meta_data");
        String json = requireObject(metaData, metaPath).toString();
        long bytes = DeadLetter.utf8Length(json);
        if (bytes > limits.maxMetaDataBytes()) {
            throw InvalidInput.value(
                    metaPath, "is " + bytes + " bytes as JSON; at most " + limits.maxMetaDataBytes() + " are allowed");
        }
        // Keys and values were read without a check: a lone surrogate would be published as '?'.
        requireValidUnicode(json, metaPath);
        return json;
    }

    private String requireMaxLength(String text, int maxChars, String path) throws InvalidInput {
        if (text.length() > maxChars) {
            throw InvalidInput.value(
                    path, "is " + text.length() + " characters long; at most " + maxChars + " are allowed");
        }
        return text;
    }

    /** Refuses a lone UTF-16 surrogate (JSON {@code "\ud800"}): it has no UTF-8 form, so it could not be echoed back. */
    private void requireValidUnicode(String text, String path) throws InvalidInput {
        int at = Excerpt.loneSurrogate(text);
        if (at >= 0) {
            throw InvalidInput.value(path, "must be valid Unicode: lone UTF-16 surrogate at index " + at);
        }
    }

    private String requiredId(ObjectNode node, String path, String field) throws InvalidInput {
        return requireId(requiredString(node, path, field), child(path, field));
    }

    private String optionalId(ObjectNode node, String path, String field) throws InvalidInput {
        String id = optionalString(node, path, field);
        return id == null ? null : requireId(id, child(path, field));
    }

    private String requireId(String id, String path) throws InvalidInput {
        if (id.isBlank()) {
            throw InvalidInput.value(path, "must not be blank");
        }
        if (id.length() > MAX_ID_LENGTH) {
            throw InvalidInput.value(path, "must be at most " + MAX_ID_LENGTH + " characters");
        }
        if (id.chars().anyMatch(Character::isISOControl)) {
            throw InvalidInput.value(path, "must not contain control characters");
        }
        return id;
    }

    private String requiredString(ObjectNode node, String path, String field) throws InvalidInput {
        return requireString(required(node, path, field), child(path, field));
    }

    private String optionalString(ObjectNode node, String path, String field) throws InvalidInput {
        JsonNode value = optional(node, field);
        return value == null ? null : requireString(value, child(path, field));
    }

    private JsonNode requiredArray(ObjectNode node, String path, String field) throws InvalidInput {
        JsonNode value = required(node, path, field);
        if (!value.isArray()) {
            throw InvalidInput.type(child(path, field), "must be an array");
        }
        return value;
    }

    private JsonNode required(ObjectNode node, String path, String field) throws InvalidInput {
        JsonNode value = optional(node, field);
        if (value == null) {
            throw new InvalidInput(
                    OzError.INVALID_STRUCTURE, "missing required field " + child(path, field), child(path, field));
        }
        return value;
    }

    private JsonNode optional(ObjectNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() ? null : value;
    }

    private String requireString(JsonNode value, String path) throws InvalidInput {
        if (!value.isTextual()) {
            throw InvalidInput.type(path, "must be a string");
        }
        requireValidUnicode(value.textValue(), path);
        return value.textValue();
    }

    private ObjectNode requireObject(JsonNode value, String path) throws InvalidInput {
        if (!value.isObject()) {
            throw InvalidInput.type(path, "must be a JSON object");
        }
        return (ObjectNode) value;
    }

    private String child(String path, String field) {
        return path.isEmpty() ? field : path + "." + field;
    }

    /** A validation failure: Oz error code, message prefixed with the Oz error name, and the offending path. */
    private static final class InvalidInput extends Exception {

        final int code;
        final String path;

        InvalidInput(int code, String reason, String path) {
            super(errorName(code) + ": " + reason, null, false, false);
            this.code = code;
            this.path = path;
        }

        static InvalidInput value(String path, String problem) {
            return new InvalidInput(OzError.INVALID_VALUE, path + " " + problem, path);
        }

        static InvalidInput type(String path, String problem) {
            return new InvalidInput(OzError.INVALID_TYPE, path + " " + problem, path);
        }

        private static String errorName(int code) {
            return switch (code) {
                case OzError.INVALID_STRUCTURE -> "INVALID STRUCTURE";
                case OzError.INVALID_VALUE -> "INVALID VALUE";
                case OzError.INVALID_TYPE -> "INVALID TYPE";
                default -> throw new IllegalArgumentException("not an input error code: " + code);
            };
        }
    }
}
