package dev.biometry.api;

/**
 * An Oz API error (spec §6): {@code error_code} and {@code error_message}. Codes used here: 3 INVALID STRUCTURE,
 * 4 INVALID VALUE, 5 INVALID TYPE, 10 NOT EXIST, 11 EXTERNAL SERVICE, 0 UNKNOWN.
 */
public record OzError(int code, String message) {

    public static final int UNKNOWN = 0;
    public static final int INVALID_STRUCTURE = 3;
    public static final int INVALID_VALUE = 4;
    public static final int INVALID_TYPE = 5;
    public static final int NOT_EXIST = 10;
    public static final int EXTERNAL_SERVICE = 11;
}
