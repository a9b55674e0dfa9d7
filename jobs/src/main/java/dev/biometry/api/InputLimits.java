package dev.biometry.api;

import java.io.Serializable;

/**
 * The size caps that keep every input, and so every output derived from it, bounded: checked by
 * {@link InputParser} (a dead letter with error 4 when exceeded) and, for the folder-wide ones, by the folder join.
 *
 * @param maxMetaDataBytes largest {@code meta_data} object of a media or an analysis (compact JSON, UTF-8 bytes)
 * @param maxOriginalNameChars longest {@code original_name} of a media
 * @param maxMediaPerAnalysis most media one analysis compares ({@code source_media} entries, or eligible media of
 *     the folder when it is omitted)
 * @param maxMediaPerFolder most media a folder holds (also the most inline media of one request)
 * @param maxDeadLetterPayloadBytes largest copy of the input record a dead letter carries (UTF-8 bytes, or raw
 *     bytes before base64); a longer record is cut and the dead letter flagged {@code payload_truncated}
 */
public record InputLimits(
        int maxMetaDataBytes,
        int maxOriginalNameChars,
        int maxMediaPerAnalysis,
        int maxMediaPerFolder,
        int maxDeadLetterPayloadBytes)
        implements Serializable {

    /** The job's defaults (see {@code JobConfig}). */
    public static final InputLimits DEFAULTS = new InputLimits(4096, 255, 100, 1000, 65536);

    /** Longest {@code uri} or {@code resolution_endpoint}, in chars (both are echoed in errors and records). */
    public static final int MAX_URI_CHARS = 4096;

    /** Most {@code tags} of one media. */
    public static final int MAX_TAGS = 32;

    /** Longest tag, in chars. */
    public static final int MAX_TAG_CHARS = 64;

    /** Longest excerpt of a client-given string echoed inside an error message, in chars. */
    public static final int MAX_ECHO_CHARS = 64;

    public InputLimits {
        if (maxMetaDataBytes < 2
                || maxOriginalNameChars < 1
                || maxMediaPerAnalysis < 2
                || maxMediaPerFolder < 2
                || maxDeadLetterPayloadBytes < 0) {
            throw new IllegalArgumentException("input limits out of range: " + this);
        }
    }
}
