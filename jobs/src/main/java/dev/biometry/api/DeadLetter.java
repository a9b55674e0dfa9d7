package dev.biometry.api;

/**
 * An input record that could not be parsed or validated, as written to the dead-letter topic: Oz error code and
 * message, details (the offending field), where it came from, and the payload (base64 when not valid UTF-8).
 */
public record DeadLetter(
        int errorCode, String errorMessage, String details, String sourceTopic, int sourcePartition,
        long sourceOffset, String payload, boolean payloadBase64) {}
