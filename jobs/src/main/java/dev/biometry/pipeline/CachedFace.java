package dev.biometry.pipeline;

/** A media's face-engine result kept in keyed state, valid while the media's URI is unchanged. */
public record CachedFace(String uri, int facesDetected, float[] embedding, Integer errorCode, String errorMessage) {}
