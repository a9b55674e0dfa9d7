package dev.biometry.match;

/**
 * One line of a calibration table: a confidence threshold, the cosine threshold it maps to, and the false and
 * true accept rates measured at that cosine threshold (decision rule cosine &ge; threshold).
 *
 * @param confidence confidence threshold in [0, 1]
 * @param cosine     the cosine threshold {@link Calibration#cosine(double)} gives for it (may be &plusmn;&infin;)
 * @param far        fraction of impostor scores &ge; {@code cosine}
 * @param tar        fraction of genuine scores &ge; {@code cosine}
 */
public record CalibrationRow(double confidence, double cosine, double far, double tar) {}
