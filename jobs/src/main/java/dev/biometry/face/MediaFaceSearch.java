package dev.biometry.face;

import ai.onnxruntime.OrtException;
import dev.biometry.api.MediaType;
import dev.biometry.match.FaceOutcome;
import dev.biometry.media.MediaException;

/**
 * Finds the face of one media: the job's face engine under its policy and limits ({@link MediaAnalyzer}), or a
 * test's fake. {@link #outcome} is the one media → faces → outcome step that the job, {@code verify} and the
 * topology tests share.
 */
@FunctionalInterface
public interface MediaFaceSearch {

    /** The faces of one media and the one chosen, or a {@link MediaException} when it cannot be read. */
    MediaFaces.Result analyze(byte[] bytes, MediaType type, boolean idDocument, String name)
            throws MediaException, OrtException;

    /**
     * The media's outcome: its template, why it has none (error 4), or why it cannot be read (the media's own Oz
     * error). An {@link OrtException} is a fault of the runtime, not of the media, and is thrown.
     */
    default FaceOutcome outcome(byte[] bytes, MediaType type, boolean idDocument, String name) throws OrtException {
        MediaFaces.Result result;
        try {
            result = analyze(bytes, type, idDocument, name);
        } catch (MediaException e) {
            return FaceOutcome.failed(MediaAnalyzer.error(e, name));
        }
        return MediaAnalyzer.outcome(result, name);
    }
}
