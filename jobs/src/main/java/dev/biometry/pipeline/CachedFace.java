package dev.biometry.pipeline;

import dev.biometry.match.FaceOutcome;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A media's face outcome kept in the embedding cache, valid while the media's URI and content are unchanged (the
 * SHA-256 of the bytes it was computed from is checked against the bytes read or downloaded for a later request)
 * and its time to live, counted from {@code writtenAtMillis}, has not run out.
 */
public record CachedFace(String uri, String contentSha256, FaceOutcome outcome, long writtenAtMillis) {

    /**
     * Whether this result was computed from {@code bytes} of the media at {@code uri} less than {@code ttlMillis}
     * before {@code nowMillis}.
     */
    boolean isFor(String uri, String contentSha256, long nowMillis, long ttlMillis) {
        return this.uri.equals(uri)
                && this.contentSha256 != null
                && this.contentSha256.equals(contentSha256)
                && nowMillis - writtenAtMillis < ttlMillis;
    }

    /** The hex SHA-256 of {@code bytes}. */
    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }
}
