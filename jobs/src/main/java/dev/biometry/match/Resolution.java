package dev.biometry.match;

/**
 * Outcome of a biometry analysis, decided from its lowest pair confidence and the analysis thresholds, as in
 * the Oz API.
 */
public enum Resolution {
    /** All media match: the lowest confidence reaches {@code threshold}. */
    SUCCESS,
    /** The lowest confidence lies in [{@code thresholdMin}, {@code threshold}): a human has to look. */
    OPERATOR_REQUIRED,
    /** The lowest confidence is below every threshold. */
    DECLINED;

    /**
     * Decides the resolution.
     * <ul>
     *   <li>{@code minConfidence >= threshold} &rarr; {@link #SUCCESS};</li>
     *   <li>{@code thresholdMin != null && thresholdMin <= minConfidence < threshold} &rarr;
     *       {@link #OPERATOR_REQUIRED};</li>
     *   <li>otherwise &rarr; {@link #DECLINED}.</li>
     * </ul>
     *
     * @param minConfidence lowest pair confidence of the analysis, in [0, 1]
     * @param threshold     confidence needed for success, in [0, 1]
     * @param thresholdMin  optional lower threshold for manual review, in [0, threshold]; null disables review
     * @throws IllegalArgumentException if a value is NaN or out of range, or {@code thresholdMin > threshold}
     */
    public static Resolution decide(double minConfidence, double threshold, Double thresholdMin) {
        requireUnitInterval("minConfidence", minConfidence);
        requireUnitInterval("threshold", threshold);
        if (thresholdMin != null) {
            requireUnitInterval("thresholdMin", thresholdMin);
            if (thresholdMin > threshold) {
                throw new IllegalArgumentException(
                        "thresholdMin (" + thresholdMin + ") must not exceed threshold (" + threshold + ")");
            }
        }
        if (minConfidence >= threshold) {
            return SUCCESS;
        }
        if (thresholdMin != null && minConfidence >= thresholdMin) {
            return OPERATOR_REQUIRED;
        }
        return DECLINED;
    }

    private static void requireUnitInterval(String name, double value) {
        if (!(value >= 0.0 && value <= 1.0)) {
            throw new IllegalArgumentException(name + " must be in [0, 1], got " + value);
        }
    }
}
