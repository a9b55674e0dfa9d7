package dev.biometry.match;

import dev.biometry.api.Excerpt;
import dev.biometry.api.FaceReport;
import dev.biometry.api.OzError;

/**
 * What the face engine made of one media's content, the same for every entry point (job, {@code verify}, batch):
 * the embedding to match, or why there is none. The job caches it by content and carries it to the matcher; a
 * {@link MediaOutcome} pairs it with the media it belongs to.
 *
 * @param facesDetected faces found (0 when none, or when the media could not be read)
 * @param embedding the unit-length template of the chosen face; {@code null} when the media has none
 * @param face which face was used (box, score, frames), or null
 * @param error why the media has no usable face (no face, quality gate, face policy), or why it could not be used
 * @param fatal {@code true} when the media could not be read or decoded: the analysis then FAILS instead of
 *     reaching a verdict
 */
public record FaceOutcome(int facesDetected, float[] embedding, FaceReport face, OzError error, boolean fatal) {

    /** A face to match. */
    public static FaceOutcome matched(int facesDetected, float[] embedding, FaceReport face) {
        return new FaceOutcome(facesDetected, embedding, face, null, false);
    }

    /** No usable face ({@code problem} says why: no face, quality gate, face policy): error 4, a verdict still. */
    public static FaceOutcome unusable(int facesDetected, FaceReport face, String problem) {
        return new FaceOutcome(facesDetected, null, face, new OzError(OzError.INVALID_VALUE, problem), false);
    }

    /** The media could not be read or decoded: the analysis FAILS with {@code error}. */
    public static FaceOutcome failed(OzError error) {
        return new FaceOutcome(0, null, null, error, true);
    }

    /** This outcome with its error message bounded to {@code maxChars} (messages may quote a URI or name). */
    public FaceOutcome withErrorBounded(int maxChars) {
        return error == null
                ? this
                : new FaceOutcome(
                        facesDetected,
                        embedding,
                        face,
                        new OzError(error.code(), Excerpt.of(error.message(), maxChars)),
                        fatal);
    }
}
