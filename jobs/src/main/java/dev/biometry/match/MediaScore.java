package dev.biometry.match;

/**
 * The confidence range of one media of an analysis over all pairs that include it.
 *
 * @param index         position of the media in the analysis' media list
 * @param minConfidence lowest confidence of any pair including this media
 * @param maxConfidence highest confidence of any pair including this media
 */
public record MediaScore(int index, double minConfidence, double maxConfidence) {}
