package dev.biometry.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Biometry analysis {@code params}: {@code threshold} (confidence for SUCCESS, default 0.85) and the optional
 * {@code threshold_min}, the lower edge of the OPERATOR_REQUIRED band.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record AnalysisParams(
        @JsonProperty("threshold") Double threshold,
        @JsonProperty("threshold_min") Double thresholdMin) {

    public static final double DEFAULT_THRESHOLD = 0.85;

    public double thresholdOrDefault() {
        return threshold == null ? DEFAULT_THRESHOLD : threshold;
    }

    /**
     * The one rule for {@code threshold_min}: it must not lie above the threshold (the OPERATOR_REQUIRED band would
     * be empty). The parser, the folder join, the analyzer and {@code verify} all ask here.
     */
    public static boolean thresholdMinAbove(Double thresholdMin, double threshold) {
        return thresholdMin != null && thresholdMin > threshold;
    }

    /**
     * Error 4 when {@code thresholdMin} lies above {@code threshold}, else null; {@code thresholdIsDefault} says the
     * threshold is the job's default (the request gave none), which the message then names.
     */
    public static OzError thresholdMinError(Double thresholdMin, double threshold, boolean thresholdIsDefault) {
        if (!thresholdMinAbove(thresholdMin, threshold)) {
            return null;
        }
        return new OzError(
                OzError.INVALID_VALUE,
                "params.threshold_min (" + thresholdMin
                        + ") must not exceed the threshold (" + threshold
                        + (thresholdIsDefault ? ", the job's default" : "")
                        + ")");
    }
}
