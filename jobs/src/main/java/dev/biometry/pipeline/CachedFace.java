package dev.biometry.pipeline;

import dev.biometry.api.FaceReport;

/** A media's face-engine result kept in keyed state, valid while the media's URI is unchanged. */
public record CachedFace(
        String uri, int facesDetected, float[] embedding, FaceReport face, Integer errorCode, String errorMessage) {}
