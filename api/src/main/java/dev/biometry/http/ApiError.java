package dev.biometry.http;

import dev.biometry.api.OzError;

/**
 * An Oz error answer (spec §6): {@code error_code}, {@code error_message}, {@code error_details} and the HTTP
 * status the code maps to (3/4/5 → 400, 6/7/8 → 401, 9 → 403, 10 → 404, 1 → 405, 2 → 501, 11 → 503, 0 → 500).
 */
public final class ApiError extends RuntimeException {

    public static final int NOT_ALLOWED = 1;
    public static final int AUTH_NOT_PROVIDED = 6;
    public static final int AUTH_INVALID = 7;
    public static final int AUTH_EXPIRED = 8;
    public static final int AUTH_FORBIDDEN = 9;

    private final int code;
    private final transient Object details;

    public ApiError(int code, String message, Object details) {
        super(message, null, false, false);
        this.code = code;
        this.details = details;
    }

    public static ApiError structure(String message, Object details) {
        return new ApiError(OzError.INVALID_STRUCTURE, message, details);
    }

    public static ApiError value(String message, Object details) {
        return new ApiError(OzError.INVALID_VALUE, message, details);
    }

    public static ApiError notExist(String what, String id) {
        return new ApiError(OzError.NOT_EXIST, what + " not found", id);
    }

    public static ApiError forbidden(String message) {
        return new ApiError(AUTH_FORBIDDEN, message, null);
    }

    public int code() {
        return code;
    }

    public Object details() {
        return details;
    }

    /** The HTTP status of an Oz error code. */
    public static int httpStatus(int code) {
        return switch (code) {
            case OzError.INVALID_STRUCTURE, OzError.INVALID_VALUE, OzError.INVALID_TYPE -> 400;
            case AUTH_NOT_PROVIDED, AUTH_INVALID, AUTH_EXPIRED -> 401;
            case AUTH_FORBIDDEN -> 403;
            case OzError.NOT_EXIST -> 404;
            case NOT_ALLOWED -> 405;
            case 2 -> 501;
            case OzError.EXTERNAL_SERVICE -> 503;
            default -> 500;
        };
    }
}
