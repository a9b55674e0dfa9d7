package dev.biometry.match;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Pairwise aggregation of a biometry analysis (as in the Oz API): every media of the analysis is compared
 * with every other, and the analysis reports the lowest and highest pair confidence overall and per media.
 *
 * @param pairs         every unordered pair (i &lt; j), ordered by i, then j
 * @param minConfidence lowest confidence over all pairs
 * @param maxConfidence highest confidence over all pairs
 * @param media         per media, in input order, the confidence range over the pairs that include it
 */
public record PairwiseMatch(List<PairScore> pairs, double minConfidence, double maxConfidence,
                            List<MediaScore> media) {

    /** How far the norm of an input embedding may be from 1 before it is rejected as not normalised. */
    public static final double NORM_TOLERANCE = 1e-3;

    /** Copies the lists. */
    public PairwiseMatch {
        pairs = List.copyOf(pairs);
        media = List.copyOf(media);
    }

    /**
     * Compares every pair of the given embeddings: confidence = {@code calibration.confidence(cosine(e_i, e_j))}.
     * A {@code null} embedding stands for a media without a usable face: each of its pairs gets cosine NaN and
     * confidence 0.
     *
     * @param embeddings  one L2-normalised embedding (or null) per media, all of the same dimension, at least two
     * @param calibration maps cosine similarity to confidence
     * @throws IllegalArgumentException if there are fewer than two embeddings, dimensions differ, or an
     *                                  embedding's norm is off 1 by more than {@link #NORM_TOLERANCE}
     */
    public static PairwiseMatch of(List<float[]> embeddings, Calibration calibration) {
        Objects.requireNonNull(calibration, "calibration");
        int count = embeddings.size();
        if (count < 2) {
            throw new IllegalArgumentException("need at least 2 media, got " + count);
        }
        int dimension = -1;
        for (int k = 0; k < count; k++) {
            float[] embedding = embeddings.get(k);
            if (embedding == null) {
                continue;
            }
            if (dimension >= 0 && embedding.length != dimension) {
                throw new IllegalArgumentException("dimension mismatch: embedding " + k + " has "
                        + embedding.length + " values, an earlier one " + dimension);
            }
            dimension = embedding.length;
            double norm = Math.sqrt(dot(embedding, embedding));
            if (!(Math.abs(norm - 1.0) <= NORM_TOLERANCE)) {
                throw new IllegalArgumentException("embedding " + k + " is not L2-normalised (norm " + norm + ")");
            }
        }

        double[] mediaMin = new double[count];
        double[] mediaMax = new double[count];
        Arrays.fill(mediaMin, Double.POSITIVE_INFINITY);
        Arrays.fill(mediaMax, Double.NEGATIVE_INFINITY);
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        List<PairScore> pairs = new ArrayList<>(count * (count - 1) / 2);
        for (int i = 0; i < count; i++) {
            for (int j = i + 1; j < count; j++) {
                float[] a = embeddings.get(i);
                float[] b = embeddings.get(j);
                double cosine = a == null || b == null ? Double.NaN : cosine(a, b);
                double confidence = Double.isNaN(cosine) ? 0.0 : calibration.confidence(cosine);
                pairs.add(new PairScore(i, j, cosine, confidence));
                min = Math.min(min, confidence);
                max = Math.max(max, confidence);
                mediaMin[i] = Math.min(mediaMin[i], confidence);
                mediaMax[i] = Math.max(mediaMax[i], confidence);
                mediaMin[j] = Math.min(mediaMin[j], confidence);
                mediaMax[j] = Math.max(mediaMax[j], confidence);
            }
        }
        List<MediaScore> media = new ArrayList<>(count);
        for (int k = 0; k < count; k++) {
            media.add(new MediaScore(k, mediaMin[k], mediaMax[k]));
        }
        return new PairwiseMatch(pairs, min, max, media);
    }

    /** Number of media in the analysis. */
    public int mediaCount() {
        return media.size();
    }

    /** Lowest confidence over the pairs that include media {@code index}. */
    public double minConfidence(int index) {
        return media.get(index).minConfidence();
    }

    /** Highest confidence over the pairs that include media {@code index}. */
    public double maxConfidence(int index) {
        return media.get(index).maxConfidence();
    }

    /** The pair of media {@code a} and {@code b}, in either order. */
    public PairScore pair(int a, int b) {
        int i = Math.min(a, b);
        int j = Math.max(a, b);
        int n = mediaCount();
        if (i < 0 || j >= n || i == j) {
            throw new IndexOutOfBoundsException("no pair (" + a + ", " + b + ") among " + n + " media");
        }
        // Pairs are stored row by row: row r holds (r, r+1) .. (r, n-1), i.e. n-1-r entries.
        int offset = i * (2 * n - i - 1) / 2;
        return pairs.get(offset + (j - i - 1));
    }

    /**
     * A new array holding {@code v} scaled to unit Euclidean length.
     *
     * @throws IllegalArgumentException if {@code v} is empty, all zeros, or contains NaN or an infinity
     */
    public static float[] l2Normalize(float[] v) {
        double norm = Math.sqrt(dot(v, v));
        if (norm == 0.0 || !Double.isFinite(norm)) {
            throw new IllegalArgumentException("cannot normalise a vector of norm " + norm);
        }
        float[] unit = new float[v.length];
        for (int k = 0; k < v.length; k++) {
            unit[k] = (float) (v[k] / norm);
        }
        return unit;
    }

    /**
     * Cosine similarity of two L2-normalised vectors: their dot product (accumulated in double), clamped to
     * [&minus;1, 1] to absorb rounding. Inputs that are not normalised give a meaningless (clamped) result.
     *
     * @throws IllegalArgumentException if the dimensions differ, the vectors are empty, or the product is NaN
     */
    public static double cosine(float[] a, float[] b) {
        double dot = dot(a, b);
        if (Double.isNaN(dot)) {
            throw new IllegalArgumentException("cosine is NaN: an embedding contains NaN or infinity");
        }
        return Math.max(-1.0, Math.min(1.0, dot));
    }

    private static double dot(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("dimension mismatch: " + a.length + " vs " + b.length);
        }
        if (a.length == 0) {
            throw new IllegalArgumentException("embeddings must not be empty");
        }
        double sum = 0.0;
        for (int k = 0; k < a.length; k++) {
            sum += (double) a[k] * b[k];
        }
        return sum;
    }
}
