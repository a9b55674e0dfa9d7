package dev.biometry.media;

/**
 * A media that cannot be used: missing, unreadable or not a decodable image. Carries the Oz API error code
 * (spec §6) that an analysis reports for it, so callers never have to parse messages.
 */
public class MediaException extends Exception {

    private static final long serialVersionUID = 1L;

    /** Why a media was refused; each kind maps to one Oz error code. */
    public enum Kind {
        /** Zero bytes, or a container (a shots-set ZIP) holding no usable image. */
        EMPTY(4),
        /** Bytes that no decoder accepts (corrupt, truncated, not an image). */
        UNDECODABLE(4),
        /** The referenced file or object does not exist. */
        NOT_FOUND(10),
        /** The media exists but could not be read (I/O error, permissions). */
        UNREADABLE(11),
        /** The URI points outside the configured media roots or uses a scheme that is not allowed. */
        FORBIDDEN(4),
        /** Larger than a configured limit: bytes, frame pixels, ZIP entries or inflated size. */
        TOO_LARGE(4),
        /** A video longer than the duration limit, with more frames than the frame limit, or too slow to decode. */
        TOO_LONG(4),
        /** A media kind this build cannot decode. */
        UNSUPPORTED(4),
        /** A remote server failed: unreachable, timed out, answered an error status or a malformed response. */
        REMOTE(11);

        private final int ozErrorCode;

        Kind(int ozErrorCode) {
            this.ozErrorCode = ozErrorCode;
        }

        public int ozErrorCode() {
            return ozErrorCode;
        }
    }

    private final Kind kind;

    public MediaException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public MediaException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    public int ozErrorCode() {
        return kind.ozErrorCode();
    }
}
