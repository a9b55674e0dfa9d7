package dev.biometry.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Biometry {@code results_data}: the least and most similar pair's confidence in [0,1]; on a per-media entry
 * also how many faces were found in that media and which face it was matched by (box, detector score, and for
 * videos and shots sets the frames used and the best-shot score) and the milliseconds its analysis took (0 when
 * the embedding came from the cache).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ResultsData(
        @JsonProperty("min_confidence") Double minConfidence,
        @JsonProperty("max_confidence") Double maxConfidence,
        @JsonProperty("faces_detected") Integer facesDetected,
        @JsonProperty("face_box") int[] faceBox,
        @JsonProperty("face_score") Double faceScore,
        @JsonProperty("frame_indices") int[] frameIndices,
        @JsonProperty("best_shot_score") Double bestShotScore,
        @JsonProperty("processing_ms") Long processingMs) {

    public static ResultsData analysisLevel(double min, double max) {
        return new ResultsData(min, max, null, null, null, null, null, null);
    }

    /** A media's own results: its pair range (null when not compared), faces found and the face it was matched by. */
    public static ResultsData forMedia(Double min, Double max, int facesDetected, FaceReport face, Long processingMs) {
        if (face == null) {
            return new ResultsData(min, max, facesDetected, null, null, null, null, processingMs);
        }
        int[] box = null;
        if (face.box() != null) {
            box = new int[face.box().length];
            for (int i = 0; i < box.length; i++) {
                box[i] = Math.round(face.box()[i]);
            }
        }
        return new ResultsData(
                min,
                max,
                facesDetected,
                box,
                face.score() == null ? null : Math.round(face.score() * 10000) / 10000.0,
                face.frameIndices(),
                face.bestShotScore() == null ? null : Math.round(face.bestShotScore() * 10) / 10.0,
                processingMs);
    }
}
