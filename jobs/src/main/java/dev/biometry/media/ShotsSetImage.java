package dev.biometry.media;

/**
 * One image of a shots set: its entry name in the ZIP and its still-encoded JPEG or PNG bytes (decode them with
 * {@link ImageDecoder}). The array is not copied: treat it as read-only.
 */
public record ShotsSetImage(String name, byte[] bytes) {}
