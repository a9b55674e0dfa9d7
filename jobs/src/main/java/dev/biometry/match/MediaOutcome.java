package dev.biometry.match;

import dev.biometry.api.FaceReport;
import dev.biometry.api.MediaObject;
import dev.biometry.api.OzError;

/**
 * What the face engine made of one media of an analysis: the media as shown in {@code source_media} and its
 * {@link FaceOutcome}.
 *
 * @param media the media as shown in {@code source_media}
 * @param outcome its face, or why it has none
 * @param processingMillis time spent reading and analysing the media, or null when not measured
 */
public record MediaOutcome(MediaObject media, FaceOutcome outcome, Long processingMillis) {

    /** An outcome given field by field. */
    public MediaOutcome(
            MediaObject media,
            int facesDetected,
            float[] embedding,
            FaceReport face,
            OzError error,
            boolean fatal,
            Long processingMillis) {
        this(media, new FaceOutcome(facesDetected, embedding, face, error, fatal), processingMillis);
    }

    public static MediaOutcome matched(MediaObject media, int facesDetected, float[] embedding, FaceReport face) {
        return new MediaOutcome(media, FaceOutcome.matched(facesDetected, embedding, face), null);
    }

    public static MediaOutcome noFace(MediaObject media) {
        return new MediaOutcome(
                media, FaceOutcome.unusable(0, null, "no face found in media " + media.mediaId()), null);
    }

    public static MediaOutcome failed(MediaObject media, OzError error, Long processingMillis) {
        return new MediaOutcome(media, FaceOutcome.failed(error), processingMillis);
    }

    public int facesDetected() {
        return outcome.facesDetected();
    }

    public float[] embedding() {
        return outcome.embedding();
    }

    public FaceReport face() {
        return outcome.face();
    }

    public OzError error() {
        return outcome.error();
    }

    public boolean fatal() {
        return outcome.fatal();
    }
}
