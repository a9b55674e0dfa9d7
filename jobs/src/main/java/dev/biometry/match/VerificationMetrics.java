package dev.biometry.match;

import java.util.Arrays;

/**
 * Verification-quality metrics (ROC AUC, equal error rate, TAR at a given FAR) of a face matcher, computed
 * from the similarity scores of genuine pairs (same person) and impostor pairs (different persons).
 *
 * <p>Scores are "higher = more similar" and the decision rule throughout is <b>accept when score &ge; t</b>:
 * <ul>
 *   <li>FAR(t) = fraction of impostor scores &ge; t (false accept rate),</li>
 *   <li>TAR(t) = fraction of genuine scores &ge; t (true accept rate), FRR(t) = 1 &minus; TAR(t).</li>
 * </ul>
 *
 * <p>Both score sets are kept sorted, so construction costs O(n log n) and every query afterwards is
 * O(log n); AUC and EER are computed once, in linear time over the sorted scores.
 */
public final class VerificationMetrics {

    private final double[] genuine;
    private final double[] impostor;
    private final double auc;
    private final double eer;
    private final double eerThreshold;

    private VerificationMetrics(double[] sortedGenuine, double[] sortedImpostor) {
        this.genuine = sortedGenuine;
        this.impostor = sortedImpostor;
        this.auc = computeAuc(sortedGenuine, sortedImpostor);
        double[] eerAndThreshold = computeEer(sortedGenuine, sortedImpostor);
        this.eer = eerAndThreshold[0];
        this.eerThreshold = eerAndThreshold[1];
    }

    /**
     * Builds the metrics from copies of the given scores (the arrays are not modified or retained).
     *
     * @throws IllegalArgumentException if either array is null or empty, or contains NaN or an infinity
     */
    public static VerificationMetrics of(double[] genuine, double[] impostor) {
        return new VerificationMetrics(sortedCopy(genuine, "genuine"), sortedCopy(impostor, "impostor"));
    }

    private static double[] sortedCopy(double[] scores, String name) {
        if (scores == null || scores.length == 0) {
            throw new IllegalArgumentException(name + " scores must not be empty");
        }
        double[] copy = new double[scores.length];
        for (int k = 0; k < scores.length; k++) {
            double score = scores[k];
            if (!Double.isFinite(score)) {
                throw new IllegalArgumentException(name + " score at index " + k + " is not finite: " + score);
            }
            copy[k] = score;
        }
        Arrays.sort(copy);
        return copy;
    }

    /** Number of genuine scores. */
    public int genuineCount() {
        return genuine.length;
    }

    /** Number of impostor scores. */
    public int impostorCount() {
        return impostor.length;
    }

    /**
     * ROC area under the curve: P(genuine &gt; impostor) + &frac12;&middot;P(genuine = impostor) over all
     * genuine/impostor pairs (the Mann&ndash;Whitney statistic, ties counted exactly).
     */
    public double auc() {
        return auc;
    }

    /**
     * Equal error rate: the value where FAR = FRR on the ROC curve. The observed operating points are the
     * thresholds t in the set of observed scores plus t = +&infin; (accept nothing). Because FAR &minus; FRR
     * strictly decreases from one such point to the next, it changes sign exactly once; the EER is where the
     * straight ROC segment between the two operating points around that sign change crosses FAR = FRR. If an
     * operating point has FAR = FRR exactly, that common value is the EER.
     */
    public double eer() {
        return eer;
    }

    /**
     * The observed score t whose operating point is closest to the equal-error line, i.e. |FAR(t) &minus; FRR(t)|
     * is smallest (on a tie, the larger t). It is always one of the two operating points {@link #eer()} is
     * interpolated between, or the larger observed score when the other one is "accept nothing".
     */
    public double eerThreshold() {
        return eerThreshold;
    }

    /** False accept rate at threshold {@code t}: the fraction of impostor scores &ge; t. Any t is allowed. */
    public double farAt(double t) {
        return fractionAtLeast(impostor, t);
    }

    /** True accept rate at threshold {@code t}: the fraction of genuine scores &ge; t. Any t is allowed. */
    public double tarAt(double t) {
        return fractionAtLeast(genuine, t);
    }

    /**
     * The decision threshold for a target false accept rate.
     *
     * <p>Rule: the smallest <em>observed</em> score t (genuine or impostor) with {@code farAt(t) <= far}.
     * Equivalently: let k be the largest number of impostors allowed to pass (the largest k with
     * k / impostorCount &le; far); t is the smallest observed score strictly greater than the (k+1)-th largest
     * impostor score, so that impostor and every impostor tied with it are rejected. If k = impostorCount,
     * t is the smallest observed score (everything is accepted). If no observed score is greater than that
     * impostor, t = {@code Math.nextUp} of it: nothing observed is accepted.
     *
     * @param far target false accept rate in [0, 1]
     * @throws IllegalArgumentException if {@code far} is outside [0, 1] or NaN
     */
    public double thresholdAtFar(double far) {
        if (!(far >= 0.0 && far <= 1.0)) {
            throw new IllegalArgumentException("far must be in [0, 1], got " + far);
        }
        int n = impostor.length;
        int allowed = (int) Math.min(n, Math.floor(far * n));
        // far * n is rounded; settle k against the exact comparison farAt() makes (count / n <= far).
        while (allowed < n && (allowed + 1) / (double) n <= far) {
            allowed++;
        }
        while (allowed > 0 && allowed / (double) n > far) {
            allowed--;
        }
        if (allowed == n) {
            return Math.min(genuine[0], impostor[0]);
        }
        double mustReject = impostor[n - 1 - allowed];
        double next = Math.min(smallestAbove(genuine, mustReject), smallestAbove(impostor, mustReject));
        return next == Double.POSITIVE_INFINITY ? Math.nextUp(mustReject) : next;
    }

    /**
     * True accept rate at the threshold chosen by {@link #thresholdAtFar(double)}:
     * {@code tarAt(thresholdAtFar(far))}.
     */
    public double tarAtFar(double far) {
        return tarAt(thresholdAtFar(far));
    }

    @Override
    public String toString() {
        return "VerificationMetrics[genuine=" + genuine.length + ", impostor=" + impostor.length + ", auc=" + auc
                + ", eer=" + eer + ", eerThreshold=" + eerThreshold + "]";
    }

    private static double fractionAtLeast(double[] sorted, double t) {
        if (Double.isNaN(t)) {
            throw new IllegalArgumentException("threshold must not be NaN");
        }
        return (sorted.length - firstIndexAtLeast(sorted, t)) / (double) sorted.length;
    }

    /** Index of the first element &ge; t in a sorted array, or its length if there is none. */
    private static int firstIndexAtLeast(double[] sorted, double t) {
        int lo = 0;
        int hi = sorted.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] < t) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** Index of the first element &gt; t in a sorted array, or its length if there is none. */
    private static int firstIndexAbove(double[] sorted, double t) {
        int lo = 0;
        int hi = sorted.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] <= t) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    private static double smallestAbove(double[] sorted, double t) {
        int index = firstIndexAbove(sorted, t);
        return index < sorted.length ? sorted[index] : Double.POSITIVE_INFINITY;
    }

    private static double computeAuc(double[] genuine, double[] impostor) {
        long wins = 0;
        long ties = 0;
        int below = 0;
        int atOrBelow = 0;
        for (double g : genuine) {
            while (below < impostor.length && impostor[below] < g) {
                below++;
            }
            if (atOrBelow < below) {
                atOrBelow = below;
            }
            while (atOrBelow < impostor.length && impostor[atOrBelow] <= g) {
                atOrBelow++;
            }
            wins += below;
            ties += atOrBelow - below;
        }
        return (2.0 * wins + ties) / (2.0 * genuine.length * impostor.length);
    }

    /** Returns {eer, eerThreshold}; see {@link #eer()} for the definition. */
    private static double[] computeEer(double[] genuine, double[] impostor) {
        long m = genuine.length;
        long n = impostor.length;
        // Walk the distinct observed scores upwards; at threshold t, gi / ii = number of genuine / impostor < t,
        // so FAR = (n - ii) / n and FRR = gi / m. FAR - FRR is compared through the exact integer numerator
        // (n - ii) * m - gi * n, so that ties between neighbouring operating points are real ties.
        int gi = 0;
        int ii = 0;
        double previousThreshold = Double.NaN;
        long previousImpostorsAccepted = 0;
        long previousGenuineRejected = 0;
        while (gi < m || ii < n) {
            double t = Math.min(
                    gi < m ? genuine[gi] : Double.POSITIVE_INFINITY, ii < n ? impostor[ii] : Double.POSITIVE_INFINITY);
            if ((n - ii) * m - gi * n <= 0) {
                return crossing(
                        m, n, previousThreshold, previousImpostorsAccepted, previousGenuineRejected, t, n - ii, gi);
            }
            previousThreshold = t;
            previousImpostorsAccepted = n - ii;
            previousGenuineRejected = gi;
            while (gi < m && genuine[gi] == t) {
                gi++;
            }
            while (ii < n && impostor[ii] == t) {
                ii++;
            }
        }
        // Reached "accept nothing" (FAR 0, FRR 1) with FAR > FRR still holding at the largest score.
        return crossing(
                m,
                n,
                previousThreshold,
                previousImpostorsAccepted,
                previousGenuineRejected,
                Double.POSITIVE_INFINITY,
                0,
                m);
    }

    /**
     * EER between operating point 0 (FAR &gt; FRR; absent when threshold0 is NaN) and operating point 1
     * (FAR &le; FRR), each given by its count of accepted impostors and rejected genuine scores.
     */
    private static double[] crossing(
            long m,
            long n,
            double threshold0,
            long impostorsAccepted0,
            long genuineRejected0,
            double threshold1,
            long impostorsAccepted1,
            long genuineRejected1) {
        double far1 = impostorsAccepted1 / (double) n;
        long gap1 = impostorsAccepted1 * m - genuineRejected1 * n;
        if (gap1 == 0 || Double.isNaN(threshold0)) {
            // The smallest score always has FAR = 1 > FRR = 0, so threshold0 is only absent when gap1 == 0.
            return new double[] {far1, threshold1};
        }
        double far0 = impostorsAccepted0 / (double) n;
        long gap0 = impostorsAccepted0 * m - genuineRejected0 * n;
        double lambda = gap0 / (double) (gap0 - gap1);
        double eer = far0 + lambda * (far1 - far0);
        boolean preferUpper = -gap1 <= gap0 && threshold1 != Double.POSITIVE_INFINITY;
        return new double[] {eer, preferUpper ? threshold1 : threshold0};
    }
}
