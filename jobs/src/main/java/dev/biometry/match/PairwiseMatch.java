package dev.biometry.match;

import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Pairwise aggregation of a biometry analysis (as in the Oz API): every media of the analysis is compared
 * with every other, and the analysis reports the lowest and highest pair confidence overall and per media.
 *
 * <p>Memory stays linear in the number of media: {@link #of} walks the upper triangle (i &lt; j) once, keeping only
 * the overall and per-media ranges; a single pair ({@link #pair}, {@link #pairs}) is recomputed from the embeddings
 * when asked for. Pair counts and positions are {@code long}: n media make n(n&minus;1)/2 pairs, which passes
 * {@code int} from 65,536 media on (and whose product n(n&minus;1) already did from 46,341 on).
 */
public final class PairwiseMatch {

    /** The fewest media an analysis compares: one pair. */
    public static final int MIN_MEDIA = 2;

    /** How far the norm of an input embedding may be from 1 before it is rejected as not normalised. */
    public static final double NORM_TOLERANCE = 1e-3;

    private final List<float[]> embeddings;
    private final Calibration calibration;
    private final double minConfidence;
    private final double maxConfidence;
    private final List<MediaScore> media;

    private PairwiseMatch(
            List<float[]> embeddings,
            Calibration calibration,
            double minConfidence,
            double maxConfidence,
            List<MediaScore> media) {
        this.embeddings = embeddings;
        this.calibration = calibration;
        this.minConfidence = minConfidence;
        this.maxConfidence = maxConfidence;
        this.media = List.copyOf(media);
    }

    /**
     * Compares every pair of the given embeddings: confidence = {@code calibration.confidence(cosine(e_i, e_j))}.
     * A {@code null} embedding stands for a media without a usable face: each of its pairs gets cosine NaN and
     * confidence 0. The embedding arrays are kept (not copied) to recompute single pairs on demand.
     *
     * @param embeddings  one L2-normalised embedding (or null) per media, all of the same dimension, at least two
     * @param calibration maps cosine similarity to confidence
     * @throws IllegalArgumentException if there are fewer than two embeddings, dimensions differ, or an
     *                                  embedding's norm is off 1 by more than {@link #NORM_TOLERANCE}
     */
    public static PairwiseMatch of(List<float[]> embeddings, Calibration calibration) {
        Objects.requireNonNull(calibration, "calibration");
        int count = embeddings.size();
        if (count < MIN_MEDIA) {
            throw new IllegalArgumentException("need at least 2 media, got " + count);
        }
        // A copy that allows nulls (List.copyOf does not), so later changes to the caller's list do not matter.
        List<float[]> kept = Arrays.asList(embeddings.toArray(new float[0][]));
        int dimension = -1;
        for (int k = 0; k < count; k++) {
            float[] embedding = kept.get(k);
            if (embedding == null) {
                continue;
            }
            if (dimension >= 0 && embedding.length != dimension) {
                throw new IllegalArgumentException("dimension mismatch: embedding " + k + " has " + embedding.length
                        + " values, an earlier one " + dimension);
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
        for (int i = 0; i < count; i++) {
            for (int j = i + 1; j < count; j++) {
                double confidence = confidence(cosineOrNaN(kept.get(i), kept.get(j)), calibration);
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
        return new PairwiseMatch(kept, calibration, min, max, media);
    }

    /** Lowest confidence over all pairs. */
    public double minConfidence() {
        return minConfidence;
    }

    /** Highest confidence over all pairs. */
    public double maxConfidence() {
        return maxConfidence;
    }

    /** Per media, in input order, the confidence range over the pairs that include it. */
    public List<MediaScore> media() {
        return media;
    }

    /** Number of media in the analysis. */
    public int mediaCount() {
        return media.size();
    }

    /** Number of unordered pairs, n(n&minus;1)/2. */
    public long pairCount() {
        return pairCount(mediaCount());
    }

    /** n(n&minus;1)/2 in {@code long} arithmetic. */
    static long pairCount(long mediaCount) {
        return mediaCount * (mediaCount - 1) / 2;
    }

    /**
     * Position of pair (i, j), i &lt; j, among the pairs ordered by i, then j: row r holds (r, r+1) .. (r, n&minus;1),
     * i.e. n&minus;1&minus;r entries.
     */
    static long pairPosition(long i, long j, long mediaCount) {
        return i * (2 * mediaCount - i - 1) / 2 + (j - i - 1);
    }

    /** Lowest confidence over the pairs that include media {@code index}. */
    public double minConfidence(int index) {
        return media.get(index).minConfidence();
    }

    /** Highest confidence over the pairs that include media {@code index}. */
    public double maxConfidence(int index) {
        return media.get(index).maxConfidence();
    }

    /** The pair of media {@code a} and {@code b}, in either order, computed from their embeddings. */
    public PairScore pair(int a, int b) {
        int i = Math.min(a, b);
        int j = Math.max(a, b);
        int n = mediaCount();
        if (i < 0 || j >= n || i == j) {
            throw new IndexOutOfBoundsException("no pair (" + a + ", " + b + ") among " + n + " media");
        }
        double cosine = cosineOrNaN(embeddings.get(i), embeddings.get(j));
        return new PairScore(i, j, cosine, confidence(cosine, calibration));
    }

    /**
     * Every unordered pair (i &lt; j), ordered by i, then j: a read-only view whose elements are computed when read,
     * never stored.
     *
     * @throws IllegalStateException when there are more pairs than a {@link List} can index
     */
    public List<PairScore> pairs() {
        long total = pairCount();
        if (total > Integer.MAX_VALUE) {
            throw new IllegalStateException(total + " pairs are more than a list can index; use pair(i, j)");
        }
        int n = mediaCount();
        return new AbstractList<>() {
            @Override
            public PairScore get(int position) {
                if (position < 0 || position >= total) {
                    throw new IndexOutOfBoundsException("pair " + position + " of " + total);
                }
                // Row i is the last one starting at or before position (binary search over the row starts).
                int low = 0;
                int high = n - 2;
                while (low < high) {
                    int middle = (low + high + 1) >>> 1;
                    if (pairPosition(middle, middle + 1, n) <= position) {
                        low = middle;
                    } else {
                        high = middle - 1;
                    }
                }
                int i = low;
                int j = (int) (position - pairPosition(i, i + 1, n)) + i + 1;
                return pair(i, j);
            }

            @Override
            public int size() {
                return (int) total;
            }
        };
    }

    private static double cosineOrNaN(float[] a, float[] b) {
        return a == null || b == null ? Double.NaN : cosine(a, b);
    }

    private static double confidence(double cosine, Calibration calibration) {
        return Double.isNaN(cosine) ? 0.0 : calibration.confidence(cosine);
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
