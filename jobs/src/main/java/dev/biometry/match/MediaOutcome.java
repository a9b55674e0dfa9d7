package dev.biometry.match;

import dev.biometry.api.FaceReport;
import dev.biometry.api.MediaObject;
import dev.biometry.api.OzError;

/**
 * What the face engine made of one media of an analysis.
 *
 * @param media the media as shown in {@code source_media}
 * @param facesDetected faces found (0 when none, or when the media could not be read)
 * @param embedding the unit-length template of the chosen face; {@code null} when the media has none
 * @param face which face was used (box, score, frames), or null
 * @param processingMillis time spent reading and analysing the media, or null when not measured
 * @param error why the media has no usable face (no face, quality gate), or why it could not be used at all
 * @param fatal {@code true} when the media could not be read or decoded: the analysis then FAILS instead of
 *     reaching a verdict
 */
public record MediaOutcome(
        MediaObject media, int facesDetected, float[] embedding, FaceReport face, OzError error, boolean fatal,
        Long processingMillis) {

    public static MediaOutcome matched(MediaObject media, int facesDetected, float[] embedding, FaceReport face) {
        return new MediaOutcome(media, facesDetected, embedding, face, null, false, null);
    }

    public static MediaOutcome noFace(MediaObject media) {
        return new MediaOutcome(media, 0, null, null,
                new OzError(OzError.INVALID_VALUE, "no face found in media " + media.mediaId()), false, null);
    }

    public static MediaOutcome failed(MediaObject media, OzError error, Long processingMillis) {
        return new MediaOutcome(media, 0, null, null, error, true, processingMillis);
    }
}
