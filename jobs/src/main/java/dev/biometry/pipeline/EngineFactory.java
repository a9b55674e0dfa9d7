package dev.biometry.pipeline;

import dev.biometry.face.FacePolicy;
import dev.biometry.face.MediaAnalyzer;
import dev.biometry.face.MediaFaceSearch;
import java.io.Serializable;

/**
 * Opens the media analyser each {@link EmbedFunction} instance runs. The job runs the face engine on the models
 * ({@link MediaAnalyzer}); topology tests pass a fake one to run the whole pipeline without the models.
 */
@FunctionalInterface
public interface EngineFactory extends Serializable {

    /** The face search of one parallel instance, under the job's face policy and media limits. */
    MediaFaceSearch open(FacePolicy policy, MediaAnalyzer.Limits limits) throws Exception;
}
