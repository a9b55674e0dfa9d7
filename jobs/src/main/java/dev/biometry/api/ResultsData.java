package dev.biometry.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Biometry {@code results_data}: the least and most similar pair's confidence in [0,1]; on a per-media entry
 * also how many faces were found in that media.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ResultsData(
        @JsonProperty("min_confidence") Double minConfidence,
        @JsonProperty("max_confidence") Double maxConfidence,
        @JsonProperty("faces_detected") Integer facesDetected) {

    public static ResultsData analysisLevel(double min, double max) {
        return new ResultsData(min, max, null);
    }
}
