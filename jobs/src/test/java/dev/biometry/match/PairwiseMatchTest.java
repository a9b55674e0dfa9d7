package dev.biometry.match;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;
import static org.assertj.core.api.Assertions.within;

import dev.biometry.face.Embeddings;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PairwiseMatchTest {

    private static final Calibration CALIBRATION = new Calibration(0.5, 10.0, 0.85, 0.001);

    /** The calibration formula written out, independently of {@link Calibration#confidence(double)}. */
    private static double expectedConfidence(double cosine) {
        return 1.0 / (1.0 + Math.exp(-(10.0 * (cosine - 0.5) + Math.log(0.85 / 0.15))));
    }

    @Test
    void threeMediaMinAndMaxPerAnalysisAndPerMedia() {
        float[] e0 = {1f, 0f, 0f};
        float[] e1 = {0.6f, 0.8f, 0f};
        float[] e2 = {0f, 0.6f, 0.8f};
        // cos(0,1) = 0.6, cos(0,2) = 0, cos(1,2) = 0.48.
        double c01 = expectedConfidence(0.6);
        double c02 = expectedConfidence(0.0);
        double c12 = expectedConfidence(0.48);

        PairwiseMatch match = PairwiseMatch.of(List.of(e0, e1, e2), CALIBRATION);

        assertThat(match.mediaCount()).isEqualTo(3);
        assertThat(match.pairs())
                .extracting(PairScore::i, PairScore::j)
                .containsExactly(tuple(0, 1), tuple(0, 2), tuple(1, 2));
        assertThat(match.pair(0, 1).cosine()).isCloseTo(0.6, within(1e-6));
        assertThat(match.pair(2, 0).cosine()).isCloseTo(0.0, within(1e-6));
        assertThat(match.pair(1, 2).cosine()).isCloseTo(0.48, within(1e-6));
        assertThat(match.pair(0, 1).confidence()).isCloseTo(c01, within(1e-5));
        assertThat(match.pair(0, 2).confidence()).isCloseTo(c02, within(1e-5));
        assertThat(match.pair(1, 2).confidence()).isCloseTo(c12, within(1e-5));

        assertThat(match.minConfidence()).isCloseTo(c02, within(1e-5));
        assertThat(match.maxConfidence()).isCloseTo(c01, within(1e-5));
        // Media 0: pairs (0,1), (0,2).  Media 1: (0,1), (1,2).  Media 2: (0,2), (1,2).
        assertThat(match.minConfidence(0)).isCloseTo(c02, within(1e-5));
        assertThat(match.maxConfidence(0)).isCloseTo(c01, within(1e-5));
        assertThat(match.minConfidence(1)).isCloseTo(c12, within(1e-5));
        assertThat(match.maxConfidence(1)).isCloseTo(c01, within(1e-5));
        assertThat(match.minConfidence(2)).isCloseTo(c02, within(1e-5));
        assertThat(match.maxConfidence(2)).isCloseTo(c12, within(1e-5));
        assertThat(match.media()).extracting(MediaScore::index).containsExactly(0, 1, 2);
        // The test's cosines are far enough apart for the ordering to be unambiguous.
        assertThat(c02).isLessThan(c12);
        assertThat(c12).isLessThan(c01);
    }

    @Test
    void twoMediaHaveOnePairAndFourEqualNumbers() {
        float[] a = Embeddings.l2Normalize(new float[] {1f, 2f, 3f, 4f});
        float[] b = Embeddings.l2Normalize(new float[] {2f, 1f, 4f, 3f});

        PairwiseMatch match = PairwiseMatch.of(List.of(a, b), CALIBRATION);

        // (1*2 + 2*1 + 3*4 + 4*3) / 30 = 28 / 30.
        double confidence = expectedConfidence(28.0 / 30.0);
        assertThat(match.pairs()).hasSize(1);
        assertThat(match.pairs().get(0).cosine()).isCloseTo(28.0 / 30.0, within(1e-6));
        assertThat(match.minConfidence()).isCloseTo(confidence, within(1e-5));
        assertThat(match.maxConfidence()).isEqualTo(match.minConfidence());
        assertThat(match.minConfidence(0)).isEqualTo(match.minConfidence());
        assertThat(match.maxConfidence(0)).isEqualTo(match.minConfidence());
        assertThat(match.minConfidence(1)).isEqualTo(match.minConfidence());
        assertThat(match.maxConfidence(1)).isEqualTo(match.minConfidence());
    }

    @Test
    void pairLookupMatchesEveryStoredPair() {
        Random random = new Random(3L);
        List<float[]> embeddings = new ArrayList<>();
        for (int k = 0; k < 6; k++) {
            float[] v = new float[512];
            for (int d = 0; d < v.length; d++) {
                v[d] = (float) random.nextGaussian();
            }
            embeddings.add(Embeddings.l2Normalize(v));
        }

        PairwiseMatch match = PairwiseMatch.of(embeddings, Calibration.DEFAULT);

        assertThat(match.pairs()).hasSize(15);
        for (int i = 0; i < 6; i++) {
            double min = Double.POSITIVE_INFINITY;
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < 6; j++) {
                if (i == j) {
                    continue;
                }
                PairScore pair = match.pair(i, j);
                assertThat(pair).isEqualTo(match.pair(j, i));
                assertThat(pair.i()).isEqualTo(Math.min(i, j));
                assertThat(pair.j()).isEqualTo(Math.max(i, j));
                assertThat(pair.cosine()).isEqualTo(PairwiseMatch.cosine(embeddings.get(i), embeddings.get(j)));
                assertThat(pair.confidence()).isEqualTo(Calibration.DEFAULT.confidence(pair.cosine()));
                min = Math.min(min, pair.confidence());
                max = Math.max(max, pair.confidence());
            }
            assertThat(match.minConfidence(i)).isEqualTo(min);
            assertThat(match.maxConfidence(i)).isEqualTo(max);
        }
        assertThatThrownBy(() -> match.pair(2, 2)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> match.pair(0, 6)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void mediaWithoutEmbeddingScoresZeroAgainstEveryOtherMedia() {
        float[] e0 = {1f, 0f};
        float[] e2 = {0.6f, 0.8f};

        PairwiseMatch match = PairwiseMatch.of(Arrays.asList(e0, null, e2), CALIBRATION);

        assertThat(match.pair(0, 1).confidence()).isEqualTo(0.0);
        assertThat(match.pair(0, 1).cosine()).isNaN();
        assertThat(match.pair(1, 2).confidence()).isEqualTo(0.0);
        assertThat(match.pair(0, 2).confidence()).isCloseTo(expectedConfidence(0.6), within(1e-5));
        assertThat(match.minConfidence()).isEqualTo(0.0);
        assertThat(match.maxConfidence()).isCloseTo(expectedConfidence(0.6), within(1e-5));
        assertThat(match.minConfidence(1)).isEqualTo(0.0);
        assertThat(match.maxConfidence(1)).isEqualTo(0.0);
        assertThat(match.minConfidence(0)).isEqualTo(0.0);
        assertThat(match.maxConfidence(0)).isCloseTo(expectedConfidence(0.6), within(1e-5));
        assertThat(PairwiseMatch.of(Arrays.asList(null, null), CALIBRATION).maxConfidence())
                .isEqualTo(0.0);
    }

    @Test
    void cosineClampsRoundingOverflowAndChecksDimensions() {
        float[] slightlyLong = {1.0000001f};
        assertThat(PairwiseMatch.cosine(slightlyLong, slightlyLong)).isEqualTo(1.0);
        assertThat(PairwiseMatch.cosine(slightlyLong, new float[] {-1.0000001f}))
                .isEqualTo(-1.0);
        assertThat(PairwiseMatch.cosine(new float[] {0.6f, 0.8f}, new float[] {0.8f, 0.6f}))
                .isCloseTo(0.96, within(1e-6));
        assertThatThrownBy(() -> PairwiseMatch.cosine(new float[] {1f, 0f}, new float[] {1f}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("dimension");
        assertThatThrownBy(() -> PairwiseMatch.cosine(new float[] {Float.NaN}, new float[] {1f}))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void rejectsTooFewMediaMismatchedDimensionsAndUnnormalisedEmbeddings() {
        float[] unit = {1f, 0f};
        assertThatThrownBy(() -> PairwiseMatch.of(List.of(unit), CALIBRATION))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at least 2");
        assertThatThrownBy(() -> PairwiseMatch.of(List.of(unit, new float[] {1f, 0f, 0f}), CALIBRATION))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("dimension");
        assertThatThrownBy(() -> PairwiseMatch.of(List.of(unit, new float[] {3f, 4f}), CALIBRATION))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("embedding 1");
    }

    @Test
    void pairCountsAndPositionsStayExactPastIntRange() {
        // 46,342 media: n(n-1) = 2,147,534,622 > Integer.MAX_VALUE, which broke the int arithmetic.
        assertThat(PairwiseMatch.pairCount(46_342)).isEqualTo(1_073_767_311L);
        assertThat(PairwiseMatch.pairCount(100_000)).isEqualTo(4_999_950_000L);
        assertThat(PairwiseMatch.pairPosition(0, 1, 100_000)).isZero();
        assertThat(PairwiseMatch.pairPosition(99_998, 99_999, 100_000)).isEqualTo(PairwiseMatch.pairCount(100_000) - 1);
        assertThat(PairwiseMatch.pairPosition(1, 2, 100_000)).isEqualTo(99_999L);
    }

    @Test
    void pairsIsAViewComputedOnReadThatMatchesPairLookupInRowOrder() {
        Random random = new Random(5L);
        List<float[]> embeddings = new ArrayList<>();
        for (int k = 0; k < 40; k++) {
            float[] v = {(float) random.nextGaussian(), (float) random.nextGaussian(), (float) random.nextGaussian()};
            embeddings.add(k % 7 == 3 ? null : Embeddings.l2Normalize(v));
        }

        PairwiseMatch match = PairwiseMatch.of(embeddings, CALIBRATION);

        assertThat(match.pairCount()).isEqualTo(780L);
        List<PairScore> pairs = match.pairs();
        assertThat(pairs).hasSize(780);
        int position = 0;
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < 40; i++) {
            for (int j = i + 1; j < 40; j++) {
                assertThat(pairs.get(position++)).isEqualTo(match.pair(i, j));
                min = Math.min(min, match.pair(i, j).confidence());
                max = Math.max(max, match.pair(i, j).confidence());
            }
        }
        assertThat(match.minConfidence()).isEqualTo(min);
        assertThat(match.maxConfidence()).isEqualTo(max);
        assertThatThrownBy(() -> pairs.get(780)).isInstanceOf(IndexOutOfBoundsException.class);
    }
}
