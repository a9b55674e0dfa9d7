package dev.biometry.api;

/**
 * Which face a media was matched by, for its {@code results_media} entry: the chosen face's box in pixels
 * ({@code x1, y1, x2, y2}) and detector score; for videos and shots sets also the frames used and the best-shot
 * score. Fields are null where they do not apply.
 */
public record FaceReport(float[] box, Float score, int[] frameIndices, Double bestShotScore) {}
