package dev.biometry.match;

import java.util.ArrayList;
import java.util.List;

/**
 * Monotone map from the cosine similarity of two face embeddings to the "confidence" in [0, 1] reported by
 * the Oz-compatible API, whose default decision threshold is a confidence of 0.85.
 *
 * <p>The map is the logistic
 * <pre>
 *   confidence(c) = 1 / (1 + exp(-(slope * (c - anchorCosine) + logit(anchorConfidence))))
 * </pre>
 * so {@code confidence(anchorCosine) == anchorConfidence} and a higher cosine never gives a lower confidence.
 * The anchor cosine is the decision threshold measured at false accept rate {@code anchorFar}, which makes
 * "confidence &ge; anchorConfidence" mean "FAR &le; anchorFar" on the data the calibration was fitted on.
 *
 * @param anchorCosine     cosine similarity that maps to {@code anchorConfidence}
 * @param slope            steepness of the logistic in 1/cosine units, &gt; 0
 * @param anchorConfidence confidence at the anchor, in (0, 1); the Oz default threshold 0.85
 * @param anchorFar        the false accept rate the anchor cosine stands for, in [0, 1] (documentation of
 *                         how the anchor was chosen; it takes no part in the mapping)
 */
public record Calibration(double anchorCosine, double slope, double anchorConfidence, double anchorFar)
        implements java.io.Serializable {

    /** The Oz API's default decision threshold, expressed as a confidence. */
    public static final double DEFAULT_ANCHOR_CONFIDENCE = 0.85;

    /** The false accept rate the default decision threshold is meant to stand for. */
    public static final double DEFAULT_ANCHOR_FAR = 0.001;

    /** Smallest slope {@link #fit} returns. */
    public static final double MIN_FIT_SLOPE = 1e-6;

    /** Largest slope {@link #fit} returns; a fit that would go steeper (e.g. separable data) stops here. */
    public static final double MAX_FIT_SLOPE = 200.0;

    /**
     * The fp32 embedding model's calibration ({@code fr_feature.onnx}); each embedding model has its own, see
     * {@code dev.biometry.face.EmbeddingPrecision#calibration()}.
     */
    public static final Calibration DEFAULT =
            // Fitted on shared/faces-dev (899 images, 177 people) by `evaluate`; DevSetAccuracyTest re-fits and
            // compares.
            new Calibration(0.34138, 28.45, DEFAULT_ANCHOR_CONFIDENCE, DEFAULT_ANCHOR_FAR);

    /** Validates the parameters. */
    public Calibration {
        if (!Double.isFinite(anchorCosine)) {
            throw new IllegalArgumentException("anchorCosine must be finite, got " + anchorCosine);
        }
        if (!(slope > 0.0) || !Double.isFinite(slope)) {
            throw new IllegalArgumentException("slope must be finite and > 0, got " + slope);
        }
        if (!(anchorConfidence > 0.0 && anchorConfidence < 1.0)) {
            throw new IllegalArgumentException("anchorConfidence must be in (0, 1), got " + anchorConfidence);
        }
        if (!(anchorFar >= 0.0 && anchorFar <= 1.0)) {
            throw new IllegalArgumentException("anchorFar must be in [0, 1], got " + anchorFar);
        }
    }

    /**
     * Confidence for a cosine similarity: in [0, 1], non-decreasing in {@code cosine}, finite for every
     * non-NaN input (&minus;&infin; gives 0, +&infin; gives 1).
     *
     * @throws IllegalArgumentException if {@code cosine} is NaN
     */
    public double confidence(double cosine) {
        if (Double.isNaN(cosine)) {
            throw new IllegalArgumentException("cosine must not be NaN");
        }
        double z = slope * (cosine - anchorCosine) + logit(anchorConfidence);
        // One formula for all z keeps the result monotone: exp is semi-monotonic and +, / round monotonically.
        // Very negative z overflows exp to +inf and yields exactly 0.
        double confidence = 1.0 / (1.0 + Math.exp(-z));
        return Math.min(1.0, Math.max(0.0, confidence));
    }

    /**
     * Inverse of {@link #confidence(double)}: the cosine similarity whose confidence is {@code confidence}.
     * Confidence 0 maps to &minus;&infin; and 1 to +&infin; (no clamping to [&minus;1, 1]), so thresholding
     * on {@code cosine >= cosine(x)} accepts the same pairs as {@code confidence >= x}, up to rounding where
     * the logistic saturates to exactly 0 or 1 in double precision.
     *
     * @throws IllegalArgumentException if {@code confidence} is outside [0, 1] or NaN
     */
    public double cosine(double confidence) {
        if (!(confidence >= 0.0 && confidence <= 1.0)) {
            throw new IllegalArgumentException("confidence must be in [0, 1], got " + confidence);
        }
        if (confidence == 0.0) {
            return Double.NEGATIVE_INFINITY;
        }
        if (confidence == 1.0) {
            return Double.POSITIVE_INFINITY;
        }
        return anchorCosine + (logit(confidence) - logit(anchorConfidence)) / slope;
    }

    /**
     * For each confidence threshold: the cosine threshold it corresponds to and the FAR and TAR the given
     * metrics measure there (decision rule cosine &ge; threshold).
     */
    public List<CalibrationRow> table(VerificationMetrics metrics, double... confidences) {
        List<CalibrationRow> rows = new ArrayList<>(confidences.length);
        for (double confidence : confidences) {
            double cosine = cosine(confidence);
            rows.add(new CalibrationRow(confidence, cosine, metrics.farAt(cosine), metrics.tarAt(cosine)));
        }
        return List.copyOf(rows);
    }

    /**
     * Fits a calibration to genuine and impostor cosine scores.
     *
     * <p>The anchor is pinned first: {@code anchorCosine = VerificationMetrics.of(genuine, impostor)
     * .thresholdAtFar(anchorFar)}. The slope is then the maximum-likelihood slope of the logistic model
     * P(genuine | c) = confidence(c) with that fixed anchor, where every genuine score has weight 1/#genuine
     * and every impostor score 1/#impostor (so both classes weigh the same in total). The log-likelihood is
     * concave in the slope; its maximum is found by Newton's method safeguarded by bisection within
     * [{@link #MIN_FIT_SLOPE}, {@link #MAX_FIT_SLOPE}], and the bound is returned when the maximum lies beyond it.
     *
     * @throws IllegalArgumentException on empty, NaN or infinite scores, or parameters out of range
     */
    public static Calibration fit(double[] genuine, double[] impostor, double anchorFar, double anchorConfidence) {
        VerificationMetrics metrics = VerificationMetrics.of(genuine, impostor);
        if (!(anchorConfidence > 0.0 && anchorConfidence < 1.0)) {
            throw new IllegalArgumentException("anchorConfidence must be in (0, 1), got " + anchorConfidence);
        }
        double anchorCosine = metrics.thresholdAtFar(anchorFar);
        double slope = maximumLikelihoodSlope(genuine, impostor, anchorCosine, logit(anchorConfidence));
        return new Calibration(anchorCosine, slope, anchorConfidence, anchorFar);
    }

    private static double maximumLikelihoodSlope(
            double[] genuine, double[] impostor, double anchorCosine, double intercept) {
        double lo = MIN_FIT_SLOPE;
        double hi = MAX_FIT_SLOPE;
        if (derivatives(genuine, impostor, anchorCosine, intercept, lo)[0] <= 0.0) {
            return lo;
        }
        if (derivatives(genuine, impostor, anchorCosine, intercept, hi)[0] >= 0.0) {
            return hi;
        }
        // Invariant: the first derivative is > 0 at lo and < 0 at hi; the maximum lies in between.
        double slope = 0.5 * (lo + hi);
        for (int iteration = 0; iteration < 200; iteration++) {
            double[] d = derivatives(genuine, impostor, anchorCosine, intercept, slope);
            if (d[0] == 0.0) {
                return slope;
            }
            if (d[0] > 0.0) {
                lo = slope;
            } else {
                hi = slope;
            }
            double newton = d[1] < 0.0 ? slope - d[0] / d[1] : Double.NaN;
            double next = newton > lo && newton < hi ? newton : 0.5 * (lo + hi);
            if (Math.abs(next - slope) <= 1e-12 * Math.max(1.0, slope) || hi - lo <= 1e-12 * Math.max(1.0, lo)) {
                return next;
            }
            slope = next;
        }
        return slope;
    }

    /**
     * First and second derivative in the slope of the class-balanced log-likelihood
     * (1/m) &Sigma;<sub>genuine</sub> log p + (1/n) &Sigma;<sub>impostor</sub> log(1 &minus; p),
     * with p = sigmoid(slope &middot; (c &minus; anchorCosine) + intercept).
     */
    private static double[] derivatives(
            double[] genuine, double[] impostor, double anchorCosine, double intercept, double slope) {
        double firstGenuine = 0;
        double secondGenuine = 0;
        for (double score : genuine) {
            double dx = score - anchorCosine;
            double p = sigmoid(slope * dx + intercept);
            double q = sigmoid(-(slope * dx + intercept));
            firstGenuine += q * dx;
            secondGenuine -= p * q * dx * dx;
        }
        double firstImpostor = 0;
        double secondImpostor = 0;
        for (double score : impostor) {
            double dx = score - anchorCosine;
            double p = sigmoid(slope * dx + intercept);
            double q = sigmoid(-(slope * dx + intercept));
            firstImpostor -= p * dx;
            secondImpostor -= p * q * dx * dx;
        }
        return new double[] {
            firstGenuine / genuine.length + firstImpostor / impostor.length,
            secondGenuine / genuine.length + secondImpostor / impostor.length
        };
    }

    private static double sigmoid(double z) {
        return 1.0 / (1.0 + Math.exp(-z));
    }

    private static double logit(double p) {
        return Math.log(p) - Math.log1p(-p);
    }
}
