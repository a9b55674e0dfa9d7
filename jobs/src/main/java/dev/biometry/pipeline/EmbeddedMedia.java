package dev.biometry.pipeline;

import dev.biometry.api.FaceReport;
import dev.biometry.api.MediaRef;
import dev.biometry.api.OzError;
import dev.biometry.match.FaceOutcome;

/**
 * The face engine's outcome for one media of an analysis (keyed by analyse id downstream).
 *
 * @param outcome the media's face, or why it has none or could not be used
 * @param fromCache true when the embedding came from the embedding cache (no inference)
 * @param processingMillis time spent reading and analysing the media (0 from the cache)
 */
public record EmbeddedMedia(
        AnalysisTicket ticket,
        int index,
        MediaRef media,
        FaceOutcome outcome,
        boolean fromCache,
        long processingMillis) {

    /** An outcome given field by field: tests and tools. */
    public EmbeddedMedia(
            AnalysisTicket ticket,
            int index,
            MediaRef media,
            int facesDetected,
            float[] embedding,
            FaceReport face,
            Integer errorCode,
            String errorMessage,
            boolean fatal,
            boolean fromCache,
            long processingMillis) {
        this(
                ticket,
                index,
                media,
                new FaceOutcome(
                        facesDetected,
                        embedding,
                        face,
                        errorCode == null ? null : new OzError(errorCode, errorMessage),
                        fatal),
                fromCache,
                processingMillis);
    }

    public int facesDetected() {
        return outcome.facesDetected();
    }

    public float[] embedding() {
        return outcome.embedding();
    }

    public OzError error() {
        return outcome.error();
    }

    public boolean fatal() {
        return outcome.fatal();
    }
}
