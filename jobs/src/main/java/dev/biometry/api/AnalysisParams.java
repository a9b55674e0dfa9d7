package dev.biometry.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Biometry analysis {@code params}: {@code threshold} (confidence for SUCCESS, default 0.85) and the optional
 * {@code threshold_min}, the lower edge of the OPERATOR_REQUIRED band.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record AnalysisParams(
        @JsonProperty("threshold") Double threshold, @JsonProperty("threshold_min") Double thresholdMin) {

    public static final double DEFAULT_THRESHOLD = 0.85;

    public double thresholdOrDefault() {
        return threshold == null ? DEFAULT_THRESHOLD : threshold;
    }
}
