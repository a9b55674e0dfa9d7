package dev.biometry.match;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CalibrationTest {

    private static final Calibration STEEP = new Calibration(0.42, 37.5, 0.85, 0.001);

    @Test
    void confidenceIsMonotoneAndInUnitIntervalOverCosineRange() {
        for (Calibration calibration : List.of(Calibration.DEFAULT, STEEP, new Calibration(-0.2, 200.0, 0.6, 0.0))) {
            double previous = -1;
            for (int k = 0; k <= 20_000; k++) {
                double cosine = -1.0 + k * 1e-4;
                double confidence = calibration.confidence(cosine);
                assertThat(confidence).isBetween(0.0, 1.0).isGreaterThanOrEqualTo(previous);
                previous = confidence;
            }
            assertThat(calibration.confidence(1.0)).isGreaterThan(calibration.confidence(-1.0));
        }
    }

    @Test
    void confidenceIsFiniteAtTheExtremes() {
        assertThat(STEEP.confidence(-1.0)).isBetween(0.0, 1.0);
        assertThat(STEEP.confidence(1.0)).isBetween(0.0, 1.0);
        assertThat(STEEP.confidence(Double.NEGATIVE_INFINITY)).isEqualTo(0.0);
        assertThat(STEEP.confidence(Double.POSITIVE_INFINITY)).isEqualTo(1.0);
        assertThat(STEEP.confidence(-Double.MAX_VALUE)).isEqualTo(0.0);
        assertThat(STEEP.confidence(Double.MAX_VALUE)).isEqualTo(1.0);
    }

    @Test
    void confidenceMatchesTheLogisticFormula() {
        double cosine = 0.5;
        double z = 37.5 * (0.5 - 0.42) + Math.log(0.85 / 0.15);
        assertThat(STEEP.confidence(cosine)).isCloseTo(1.0 / (1.0 + Math.exp(-z)), within(1e-15));
    }

    @Test
    void anchorCosineMapsToAnchorConfidence() {
        assertThat(Calibration.DEFAULT.anchorConfidence()).isEqualTo(0.85);
        assertThat(Calibration.DEFAULT.anchorFar()).isEqualTo(0.001);
        assertThat(Calibration.DEFAULT.confidence(Calibration.DEFAULT.anchorCosine()))
                .isCloseTo(0.85, within(1e-12));
        assertThat(STEEP.confidence(0.42)).isCloseTo(0.85, within(1e-12));
        assertThat(new Calibration(0.1, 3.0, 0.6, 0.01).confidence(0.1)).isCloseTo(0.6, within(1e-12));
    }

    @Test
    void cosineInvertsConfidence() {
        int checked = 0;
        for (int k = -100; k <= 100; k++) {
            double cosine = k / 100.0;
            double confidence = Calibration.DEFAULT.confidence(cosine);
            // Where the logistic saturates, a double cannot hold 1 - confidence precisely enough to invert.
            if (confidence > 1e-6 && confidence < 1 - 1e-6) {
                assertThat(Calibration.DEFAULT.cosine(confidence)).isCloseTo(cosine, within(1e-9));
                checked++;
            }
        }
        assertThat(checked).isGreaterThan(50);
        for (int k = 1; k < 1000; k++) {
            double confidence = k / 1000.0;
            assertThat(STEEP.confidence(STEEP.cosine(confidence))).isCloseTo(confidence, within(1e-12));
        }
        assertThat(STEEP.cosine(0.85)).isCloseTo(0.42, within(1e-15));
        assertThat(STEEP.cosine(0.0)).isEqualTo(Double.NEGATIVE_INFINITY);
        assertThat(STEEP.cosine(1.0)).isEqualTo(Double.POSITIVE_INFINITY);
    }

    @Test
    void rejectsInvalidArguments() {
        assertThatThrownBy(() -> STEEP.confidence(Double.NaN)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> STEEP.cosine(Double.NaN)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> STEEP.cosine(1.5)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> STEEP.cosine(-0.1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Calibration(0.3, 0.0, 0.85, 0.001))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("slope");
        assertThatThrownBy(() -> new Calibration(0.3, -1.0, 0.85, 0.001)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Calibration(0.3, 10.0, 1.0, 0.001))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("anchorConfidence");
        assertThatThrownBy(() -> new Calibration(Double.NaN, 10.0, 0.85, 0.001))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("anchorCosine");
        assertThatThrownBy(() -> new Calibration(0.3, 10.0, 0.85, 2.0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("anchorFar");
    }

    @Test
    void fitPinsTheAnchorAtTheFarThresholdAndMaximisesTheBalancedLikelihood() {
        Random random = new Random(42L);
        double[] genuine = gaussian(random, 2_000, 0.55, 0.12);
        double[] impostor = gaussian(random, 100_000, 0.02, 0.08);

        Calibration fitted = Calibration.fit(genuine, impostor, 0.001, 0.85);

        VerificationMetrics metrics = VerificationMetrics.of(genuine, impostor);
        assertThat(fitted.anchorCosine()).isEqualTo(metrics.thresholdAtFar(0.001));
        assertThat(fitted.anchorFar()).isEqualTo(0.001);
        assertThat(fitted.anchorConfidence()).isEqualTo(0.85);
        assertThat(fitted.slope()).isStrictlyBetween(Calibration.MIN_FIT_SLOPE, Calibration.MAX_FIT_SLOPE);
        assertThat(fitted.confidence(fitted.anchorCosine())).isCloseTo(0.85, within(1e-12));

        // The fitted slope beats every slope of a grid and its close neighbours.
        double best = balancedLogLikelihood(genuine, impostor, fitted);
        for (double slope = 0.5; slope <= 200; slope += 0.5) {
            assertThat(best).isGreaterThanOrEqualTo(balancedLogLikelihood(genuine, impostor, withSlope(fitted, slope)));
        }
        for (double factor : new double[] {0.999, 1.001}) {
            assertThat(best)
                    .isGreaterThan(
                            balancedLogLikelihood(genuine, impostor, withSlope(fitted, fitted.slope() * factor)));
        }
    }

    @Test
    void fitRecoversTheSlopeOfAKnownLogistic() {
        // Two classes N(0, s^2) and N(0.5, s^2) with equal weight have the exact posterior
        // P(genuine | c) = sigmoid(trueSlope * (c - 0.25)), trueSlope = 0.5 / s^2. Written with an anchor at
        // confidence 0.85 this is anchor = 0.25 + logit(0.85) / trueSlope; pinning the fit's anchor there
        // (via the FAR the sample shows at that cosine) leaves the slope to be recovered.
        double sigma = 0.15;
        double trueSlope = 0.5 / (sigma * sigma);
        double trueAnchor = 0.25 + Math.log(0.85 / 0.15) / trueSlope;
        Random random = new Random(1234L);
        double[] genuine = gaussian(random, 30_000, 0.5, sigma);
        double[] impostor = gaussian(random, 30_000, 0.0, sigma);
        double anchorFar = VerificationMetrics.of(genuine, impostor).farAt(trueAnchor);

        Calibration fitted = Calibration.fit(genuine, impostor, anchorFar, 0.85);

        assertThat(fitted.anchorCosine()).isCloseTo(trueAnchor, within(1e-3));
        assertThat(fitted.slope()).isCloseTo(trueSlope, within(0.05 * trueSlope));
    }

    @Test
    void fitStopsAtTheSlopeBoundsWhenTheLikelihoodHasNoInteriorMaximum() {
        // Separable: every genuine above and every impostor below the anchor, so steeper is always better.
        Calibration separable = Calibration.fit(new double[] {0.7, 0.8, 0.9}, new double[] {0.1, 0.2, 0.3}, 0.0, 0.85);
        assertThat(separable.anchorCosine()).isEqualTo(0.7);
        assertThat(separable.slope()).isEqualTo(Calibration.MAX_FIT_SLOPE);

        // Genuine far below the anchor: the likelihood decreases in the slope from the start.
        Calibration inverted = Calibration.fit(new double[] {-0.9}, new double[] {0.5, 0.9}, 0.5, 0.85);
        assertThat(inverted.anchorCosine()).isEqualTo(0.9);
        assertThat(inverted.slope()).isEqualTo(Calibration.MIN_FIT_SLOPE);
    }

    @Test
    void fitRejectsInvalidInput() {
        assertThatThrownBy(() -> Calibration.fit(new double[0], new double[] {0.1}, 0.001, 0.85))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Calibration.fit(new double[] {0.9}, new double[] {0.1}, 0.001, 1.0))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Calibration.fit(new double[] {0.9}, new double[] {0.1}, -0.1, 0.85))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void tableReportsCosineFarAndTarPerConfidence() {
        Calibration calibration = new Calibration(0.5, 10.0, 0.85, 0.001);
        VerificationMetrics metrics =
                VerificationMetrics.of(new double[] {0.4, 0.6, 0.8}, new double[] {0.1, 0.5, 0.7});

        List<CalibrationRow> rows = calibration.table(metrics, 0.85, 0.0, 1.0, 0.99);

        assertThat(rows).hasSize(4);
        // Confidence 0.85 is the anchor, cosine 0.5: impostors 0.5, 0.7 and genuine 0.6, 0.8 pass.
        assertThat(rows.get(0).confidence()).isEqualTo(0.85);
        assertThat(rows.get(0).cosine()).isCloseTo(0.5, within(1e-15));
        assertThat(rows.get(0).far()).isCloseTo(2.0 / 3.0, within(1e-12));
        assertThat(rows.get(0).tar()).isCloseTo(2.0 / 3.0, within(1e-12));
        assertThat(rows.get(1)).isEqualTo(new CalibrationRow(0.0, Double.NEGATIVE_INFINITY, 1.0, 1.0));
        assertThat(rows.get(2)).isEqualTo(new CalibrationRow(1.0, Double.POSITIVE_INFINITY, 0.0, 0.0));
        // Confidence 0.99: cosine 0.5 + (logit(0.99) - logit(0.85)) / 10 = 0.7862, only genuine 0.8 passes.
        assertThat(rows.get(3).cosine()).isCloseTo(0.5 + (Math.log(99) - Math.log(0.85 / 0.15)) / 10, within(1e-12));
        assertThat(rows.get(3).far()).isEqualTo(0.0);
        assertThat(rows.get(3).tar()).isCloseTo(1.0 / 3.0, within(1e-12));
    }

    private static double[] gaussian(Random random, int count, double mean, double sd) {
        double[] values = new double[count];
        for (int k = 0; k < count; k++) {
            values[k] = mean + sd * random.nextGaussian();
        }
        return values;
    }

    private static Calibration withSlope(Calibration c, double slope) {
        return new Calibration(c.anchorCosine(), slope, c.anchorConfidence(), c.anchorFar());
    }

    /** (1/m) sum log conf(genuine) + (1/n) sum log(1 - conf(impostor)), evaluated stably via log-sigmoid. */
    private static double balancedLogLikelihood(double[] genuine, double[] impostor, Calibration c) {
        double intercept = Math.log(c.anchorConfidence() / (1 - c.anchorConfidence()));
        double genuineSum = 0;
        for (double g : genuine) {
            genuineSum += logSigmoid(c.slope() * (g - c.anchorCosine()) + intercept);
        }
        double impostorSum = 0;
        for (double i : impostor) {
            impostorSum += logSigmoid(-(c.slope() * (i - c.anchorCosine()) + intercept));
        }
        return genuineSum / genuine.length + impostorSum / impostor.length;
    }

    private static double logSigmoid(double z) {
        return z >= 0 ? -Math.log1p(Math.exp(-z)) : z - Math.log1p(Math.exp(z));
    }
}
