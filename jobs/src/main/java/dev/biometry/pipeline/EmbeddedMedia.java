package dev.biometry.pipeline;

import dev.biometry.api.FaceReport;
import dev.biometry.api.MediaRef;

/**
 * The face engine's outcome for one media of an analysis (keyed by analyse id downstream).
 *
 * @param embedding unit-length template, or null when the media has no usable face or failed
 * @param face which face (box, score, frames) the template comes from, or null
 * @param errorCode Oz error code when the media has no usable face or could not be used, else null
 * @param fatal true when the media could not be read or decoded: the analysis FAILS
 * @param fromCache true when the embedding came from the embedding cache (no inference)
 * @param processingMillis time spent reading and analysing the media (0 from the cache)
 */
public record EmbeddedMedia(
        AnalysisTicket ticket, int index, MediaRef media, int facesDetected, float[] embedding, FaceReport face,
        Integer errorCode, String errorMessage, boolean fatal, boolean fromCache, long processingMillis) {}
