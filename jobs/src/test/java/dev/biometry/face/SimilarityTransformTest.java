package dev.biometry.face;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.api.Test;

class SimilarityTransformTest {

    @Test
    void recoversAKnownSimilarityTransformExactly() {
        double scale = 1.7;
        double angle = Math.toRadians(23);
        SimilarityTransform truth =
                new SimilarityTransform(scale * Math.cos(angle), scale * Math.sin(angle), -14.5, 36.25);
        double[][] src = {{10, 20}, {55, 18}, {33, 47}, {15, 70}, {50, 72}};
        double[][] dst = new double[src.length][];
        for (int i = 0; i < src.length; i++) {
            dst[i] = truth.apply(src[i][0], src[i][1]);
        }

        SimilarityTransform fitted = SimilarityTransform.estimate(src, dst);

        assertThat(fitted.scale()).isCloseTo(scale, within(1e-9));
        assertThat(fitted.rotationRadians()).isCloseTo(angle, within(1e-9));
        assertThat(fitted.tx()).isCloseTo(-14.5, within(1e-9));
        assertThat(fitted.ty()).isCloseTo(36.25, within(1e-9));
    }

    @Test
    void isTheLeastSquaresFitUnderNoise() {
        Random random = new Random(7);
        SimilarityTransform truth = new SimilarityTransform(0.8, -0.3, 5, -2);
        double[][] src = new double[40][];
        double[][] dst = new double[40][];
        for (int i = 0; i < src.length; i++) {
            src[i] = new double[] {random.nextDouble() * 100, random.nextDouble() * 100};
            double[] p = truth.apply(src[i][0], src[i][1]);
            dst[i] = new double[] {p[0] + random.nextGaussian() * 0.5, p[1] + random.nextGaussian() * 0.5};
        }
        SimilarityTransform fitted = SimilarityTransform.estimate(src, dst);
        double best = residual(fitted, src, dst);

        // Any nudge of any parameter makes the squared error larger.
        double[] params = {fitted.a(), fitted.b(), fitted.tx(), fitted.ty()};
        for (int k = 0; k < 4; k++) {
            for (double delta : new double[] {-1e-3, 1e-3}) {
                double[] p = params.clone();
                p[k] += delta;
                assertThat(residual(new SimilarityTransform(p[0], p[1], p[2], p[3]), src, dst))
                        .isGreaterThan(best);
            }
        }
        assertThat(fitted.a()).isCloseTo(0.8, within(0.01));
        assertThat(fitted.b()).isCloseTo(-0.3, within(0.01));
    }

    @Test
    void rejectsDegenerateInput() {
        assertThatThrownBy(() -> SimilarityTransform.estimate(new double[][] {{1, 1}}, new double[][] {{2, 2}}))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() ->
                        SimilarityTransform.estimate(new double[][] {{1, 1}, {1, 1}}, new double[][] {{2, 2}, {3, 3}}))
                .hasMessageContaining("coincide");
    }

    private static double residual(SimilarityTransform t, double[][] src, double[][] dst) {
        double sum = 0;
        for (int i = 0; i < src.length; i++) {
            double[] p = t.apply(src[i][0], src[i][1]);
            sum += Math.pow(p[0] - dst[i][0], 2) + Math.pow(p[1] - dst[i][1], 2);
        }
        return sum;
    }
}
