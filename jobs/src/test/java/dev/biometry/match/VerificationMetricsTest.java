package dev.biometry.match;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.Random;
import java.util.stream.DoubleStream;
import org.junit.jupiter.api.Test;

class VerificationMetricsTest {

    private static final double EPS = 1e-12;

    @Test
    void perfectSeparationGivesAucOneAndEerZero() {
        VerificationMetrics m = VerificationMetrics.of(new double[] {0.9, 0.7, 0.8}, new double[] {0.1, 0.3, 0.2});

        assertThat(m.auc()).isEqualTo(1.0);
        assertThat(m.eer()).isEqualTo(0.0);
        // 0.7 is the only observed score with FAR = FRR = 0.
        assertThat(m.eerThreshold()).isEqualTo(0.7);
        assertThat(m.thresholdAtFar(0.0)).isEqualTo(0.7);
        assertThat(m.tarAtFar(0.0)).isEqualTo(1.0);
    }

    @Test
    void reversedScoresGiveAucZeroAndEerOne() {
        VerificationMetrics m = VerificationMetrics.of(new double[] {0.1, 0.2}, new double[] {0.8, 0.9});

        assertThat(m.auc()).isEqualTo(0.0);
        // At 0.8 every impostor is accepted and every genuine rejected: FAR = FRR = 1.
        assertThat(m.eer()).isEqualTo(1.0);
        assertThat(m.eerThreshold()).isEqualTo(0.8);
    }

    @Test
    void identicalDistributionsGiveAucOneHalf() {
        double[] scores = {0.1, 0.2, 0.3, 0.4};
        VerificationMetrics m = VerificationMetrics.of(scores, scores);

        assertThat(m.auc()).isCloseTo(0.5, within(EPS));
        // At t = 0.3: FAR = 2/4, FRR = 2/4.
        assertThat(m.eer()).isCloseTo(0.5, within(EPS));
        assertThat(m.eerThreshold()).isEqualTo(0.3);
    }

    @Test
    void tiesCountHalf() {
        // Pairs: (0.5, 0.5) tie twice, (0.5, 0.2) win twice -> (2 + 0.5 * 2) / 4.
        VerificationMetrics m = VerificationMetrics.of(new double[] {0.5, 0.5}, new double[] {0.5, 0.2});
        assertThat(m.auc()).isCloseTo(0.75, within(EPS));

        // All scores equal: every pair is a tie.
        VerificationMetrics allTied = VerificationMetrics.of(new double[] {0.4, 0.4, 0.4}, new double[] {0.4});
        assertThat(allTied.auc()).isCloseTo(0.5, within(EPS));
    }

    @Test
    void negativeZeroTiesWithPositiveZero() {
        VerificationMetrics m = VerificationMetrics.of(new double[] {-0.0}, new double[] {0.0});
        assertThat(m.auc()).isCloseTo(0.5, within(EPS));
        assertThat(m.farAt(0.0)).isEqualTo(1.0);
        assertThat(m.tarAt(-0.0)).isEqualTo(1.0);
    }

    @Test
    void eerInterpolatesBetweenOperatingPoints() {
        // Operating points (t: FAR, FRR): 0.4: 3/4, 0   0.5: 3/4, 1/3   0.55: 1/2, 1/3   0.6: 1/4, 1/3.
        // FAR - FRR goes from +1/6 at 0.55 to -1/12 at 0.6; crossing at lambda = 2/3:
        // FAR = 1/2 + 2/3 * (1/4 - 1/2) = 1/3 (= FRR, constant on that segment).
        VerificationMetrics m =
                VerificationMetrics.of(new double[] {0.4, 0.6, 0.8}, new double[] {0.1, 0.5, 0.55, 0.9});

        assertThat(m.eer()).isCloseTo(1.0 / 3.0, within(EPS));
        assertThat(m.eerThreshold()).isEqualTo(0.6);
    }

    @Test
    void eerThresholdPrefersTheLargerScoreWhenBothNeighboursAreEquallyFar() {
        // 0.5: FAR 2/3, FRR 1/2 (gap +1/6)   0.6: FAR 1/3, FRR 1/2 (gap -1/6). EER halfway: 1/2.
        VerificationMetrics m = VerificationMetrics.of(new double[] {0.3, 0.6}, new double[] {0.2, 0.5, 0.7});

        assertThat(m.eer()).isCloseTo(0.5, within(EPS));
        assertThat(m.eerThreshold()).isEqualTo(0.6);
    }

    @Test
    void eerThresholdStaysAnObservedScoreWhenOnlyAcceptNothingIsBeyondTheCrossing() {
        // At 0.5 FAR = 1, FRR = 0; the next operating point is "accept nothing" (FAR 0, FRR 1).
        VerificationMetrics m = VerificationMetrics.of(new double[] {0.5}, new double[] {0.5, 0.5, 0.5});

        assertThat(m.eer()).isCloseTo(0.5, within(EPS));
        assertThat(m.eerThreshold()).isEqualTo(0.5);
    }

    @Test
    void farAndTarAtArbitraryThresholds() {
        VerificationMetrics m = VerificationMetrics.of(new double[] {0.4, 0.6, 0.8}, new double[] {0.1, 0.5, 0.7});

        assertThat(m.farAt(0.5)).isCloseTo(2.0 / 3.0, within(EPS));
        assertThat(m.farAt(0.50001)).isCloseTo(1.0 / 3.0, within(EPS));
        assertThat(m.tarAt(0.5)).isCloseTo(2.0 / 3.0, within(EPS));
        assertThat(m.farAt(Double.NEGATIVE_INFINITY)).isEqualTo(1.0);
        assertThat(m.tarAt(Double.POSITIVE_INFINITY)).isEqualTo(0.0);
        assertThat(m.tarAt(0.8)).isCloseTo(1.0 / 3.0, within(EPS));
        assertThat(m.tarAt(0.81)).isEqualTo(0.0);
    }

    @Test
    void tarAtFarComputedByHand() {
        // Impostors 0.1 .. 1.0 (10 scores), genuine 0.55 .. 1.05 (5 scores).
        double[] impostor = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0};
        double[] genuine = {0.55, 0.75, 0.85, 0.95, 1.05};
        VerificationMetrics m = VerificationMetrics.of(genuine, impostor);

        // FAR 0.2: 2 impostors may pass, so 0.8 (the 3rd largest) must be rejected; the smallest observed score
        // above it is the genuine 0.85. Accepted genuine: 0.85, 0.95, 1.05.
        assertThat(m.thresholdAtFar(0.2)).isEqualTo(0.85);
        assertThat(m.farAt(0.85)).isCloseTo(0.2, within(EPS));
        assertThat(m.tarAtFar(0.2)).isCloseTo(0.6, within(EPS));
        // FAR 0.25 still allows only 2 impostors.
        assertThat(m.thresholdAtFar(0.25)).isEqualTo(0.85);
        // FAR 0.3 (0.3 * 10 is not exactly 3 in doubles): 3 pass, reject 0.7, threshold 0.75, TAR 4/5.
        assertThat(m.thresholdAtFar(0.3)).isEqualTo(0.75);
        assertThat(m.tarAtFar(0.3)).isCloseTo(0.8, within(EPS));
        // FAR 0.1: reject 0.9, threshold 0.95, TAR 2/5.
        assertThat(m.thresholdAtFar(0.1)).isEqualTo(0.95);
        assertThat(m.tarAtFar(0.1)).isCloseTo(0.4, within(EPS));
        // FAR 0: reject every impostor, threshold 1.05, TAR 1/5.
        assertThat(m.thresholdAtFar(0.0)).isEqualTo(1.05);
        assertThat(m.tarAtFar(0.0)).isCloseTo(0.2, within(EPS));
        // FAR 1: everything passes, threshold is the smallest score.
        assertThat(m.thresholdAtFar(1.0)).isEqualTo(0.1);
        assertThat(m.tarAtFar(1.0)).isEqualTo(1.0);
    }

    @Test
    void thresholdAtFarRejectsAllImpostorsTiedWithTheOneThatMustFail() {
        // Sorted impostors 0.1, 0.5, 0.5, 0.5. FAR 0.5 allows 2, but three are tied at 0.5, so 0.5 is too low.
        VerificationMetrics m = VerificationMetrics.of(new double[] {0.6, 0.45}, new double[] {0.5, 0.5, 0.1, 0.5});

        assertThat(m.farAt(0.5)).isEqualTo(0.75);
        assertThat(m.thresholdAtFar(0.5)).isEqualTo(0.6);
        assertThat(m.farAt(0.6)).isEqualTo(0.0);
        assertThat(m.tarAtFar(0.5)).isEqualTo(0.5);
    }

    @Test
    void thresholdAtFarAboveEveryScoreWhenTheLargestImpostorMustBeRejected() {
        VerificationMetrics m = VerificationMetrics.of(new double[] {0.3}, new double[] {0.4});

        assertThat(m.thresholdAtFar(0.0)).isEqualTo(Math.nextUp(0.4));
        assertThat(m.farAt(m.thresholdAtFar(0.0))).isEqualTo(0.0);
        assertThat(m.tarAtFar(0.0)).isEqualTo(0.0);
    }

    @Test
    void aucMatchesNaiveCountOnRandomDataWithTies() {
        Random random = new Random(20240611L);
        for (int trial = 0; trial < 50; trial++) {
            double[] genuine = new double[1 + random.nextInt(60)];
            double[] impostor = new double[1 + random.nextInt(300)];
            // Rounding to a 1/20 grid makes ties frequent.
            for (int k = 0; k < genuine.length; k++) {
                genuine[k] = Math.round((0.5 + 0.3 * random.nextGaussian()) * 20) / 20.0;
            }
            for (int k = 0; k < impostor.length; k++) {
                impostor[k] = Math.round((0.2 + 0.3 * random.nextGaussian()) * 20) / 20.0;
            }
            VerificationMetrics m = VerificationMetrics.of(genuine, impostor);

            assertThat(m.auc()).isCloseTo(naiveAuc(genuine, impostor), within(EPS));
            double[] naiveEer = naiveEer(genuine, impostor);
            assertThat(m.eer()).isCloseTo(naiveEer[0], within(EPS));
            assertThat(m.eerThreshold()).isEqualTo(naiveEer[1]);
            for (double far : new double[] {0.0, 0.01, 0.1, 0.37, 0.5, 1.0}) {
                assertThresholdAtFarIsMinimal(m, genuine, impostor, far);
            }
        }
    }

    @Test
    void swappingGenuineAndImpostorComplementsTheAuc() {
        Random random = new Random(7L);
        double[] genuine = new double[2_000];
        double[] impostor = new double[400_000];
        for (int k = 0; k < genuine.length; k++) {
            genuine[k] = Math.round((0.6 + 0.15 * random.nextGaussian()) * 1000) / 1000.0;
        }
        for (int k = 0; k < impostor.length; k++) {
            impostor[k] = Math.round((0.05 + 0.1 * random.nextGaussian()) * 1000) / 1000.0;
        }

        VerificationMetrics m = VerificationMetrics.of(genuine, impostor);
        VerificationMetrics swapped = VerificationMetrics.of(impostor, genuine);

        assertThat(m.auc() + swapped.auc()).isCloseTo(1.0, within(1e-9));
        assertThat(m.auc()).isBetween(0.99, 1.0);
        double threshold = m.thresholdAtFar(0.001);
        assertThat(m.farAt(threshold)).isLessThanOrEqualTo(0.001);
        double largestScoreBelow = DoubleStream.concat(Arrays.stream(genuine), Arrays.stream(impostor))
                .filter(s -> s < threshold)
                .max()
                .orElseThrow();
        assertThat(m.farAt(largestScoreBelow)).isGreaterThan(0.001);
    }

    @Test
    void ofCopiesItsInput() {
        double[] genuine = {0.9};
        double[] impostor = {0.1};
        VerificationMetrics m = VerificationMetrics.of(genuine, impostor);
        genuine[0] = 0.0;
        impostor[0] = 1.0;

        assertThat(m.auc()).isEqualTo(1.0);
        assertThat(m.tarAt(0.9)).isEqualTo(1.0);
    }

    @Test
    void rejectsInvalidInput() {
        assertThatThrownBy(() -> VerificationMetrics.of(new double[0], new double[] {0.1}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("genuine");
        assertThatThrownBy(() -> VerificationMetrics.of(new double[] {0.1}, new double[0]))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("impostor");
        assertThatThrownBy(() -> VerificationMetrics.of(new double[] {0.1, Double.NaN}, new double[] {0.1}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("index 1");
        assertThatThrownBy(() -> VerificationMetrics.of(new double[] {0.1}, new double[] {Double.NaN}))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> VerificationMetrics.of(null, new double[] {0.1}))
                .isInstanceOf(IllegalArgumentException.class);

        VerificationMetrics m = VerificationMetrics.of(new double[] {0.9}, new double[] {0.1});
        assertThatThrownBy(() -> m.thresholdAtFar(-0.01)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> m.thresholdAtFar(1.01)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> m.thresholdAtFar(Double.NaN)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> m.farAt(Double.NaN)).isInstanceOf(IllegalArgumentException.class);
    }

    private static double naiveAuc(double[] genuine, double[] impostor) {
        double sum = 0;
        for (double g : genuine) {
            for (double i : impostor) {
                sum += g > i ? 1.0 : g == i ? 0.5 : 0.0;
            }
        }
        return sum / ((double) genuine.length * impostor.length);
    }

    private static double naiveFraction(double[] scores, double t) {
        int count = 0;
        for (double s : scores) {
            if (s >= t) {
                count++;
            }
        }
        return count / (double) scores.length;
    }

    private static double naiveFractionBelow(double[] scores, double t) {
        int count = 0;
        for (double s : scores) {
            if (s < t) {
                count++;
            }
        }
        return count / (double) scores.length;
    }

    /** EER by trying every observed score plus "accept nothing", as documented on {@link VerificationMetrics#eer()}. */
    private static double[] naiveEer(double[] genuine, double[] impostor) {
        double[] candidates = DoubleStream.concat(Arrays.stream(genuine), Arrays.stream(impostor))
                .distinct()
                .sorted()
                .toArray();
        double bestThreshold = Double.NaN;
        double bestGap = Double.POSITIVE_INFINITY;
        for (double t : candidates) {
            // |FAR - FRR| scaled by m * n, exact in integers so that equal gaps compare equal.
            double gap = Math.abs(Math.round(naiveFraction(impostor, t) * impostor.length) * (long) genuine.length
                    - Math.round(naiveFractionBelow(genuine, t) * genuine.length) * (long) impostor.length);
            if (gap <= bestGap) {
                bestGap = gap;
                bestThreshold = t;
            }
        }
        double[] withAcceptNothing = Arrays.copyOf(candidates, candidates.length + 1);
        withAcceptNothing[candidates.length] = Double.POSITIVE_INFINITY;
        for (int k = 0; k + 1 < withAcceptNothing.length; k++) {
            double far0 = naiveFraction(impostor, withAcceptNothing[k]);
            double frr0 = naiveFractionBelow(genuine, withAcceptNothing[k]);
            double far1 = naiveFraction(impostor, withAcceptNothing[k + 1]);
            double frr1 = naiveFractionBelow(genuine, withAcceptNothing[k + 1]);
            if (far0 - frr0 == 0) {
                return new double[] {far0, bestThreshold};
            }
            if (far0 - frr0 > 0 && far1 - frr1 <= 0) {
                double lambda = (far0 - frr0) / ((far0 - frr0) - (far1 - frr1));
                return new double[] {far0 + lambda * (far1 - far0), bestThreshold};
            }
        }
        throw new AssertionError("FAR - FRR never changed sign");
    }

    private static void assertThresholdAtFarIsMinimal(
            VerificationMetrics m, double[] genuine, double[] impostor, double far) {
        double t = m.thresholdAtFar(far);
        assertThat(naiveFraction(impostor, t)).isLessThanOrEqualTo(far);
        assertThat(m.tarAtFar(far)).isEqualTo(naiveFraction(genuine, t));
        boolean observed = false;
        for (double[] scores : new double[][] {genuine, impostor}) {
            for (double s : scores) {
                observed |= s == t;
                if (s < t) {
                    assertThat(naiveFraction(impostor, s))
                            .as("FAR at smaller score %s", s)
                            .isGreaterThan(far);
                }
            }
        }
        if (!observed) {
            // Only allowed when every observed score is below t and t is just above the largest impostor.
            double maxImpostor = Arrays.stream(impostor).max().orElseThrow();
            assertThat(t).isEqualTo(Math.nextUp(maxImpostor));
        }
    }
}
