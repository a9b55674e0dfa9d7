package dev.biometry.face;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.biometry.match.Calibration;
import dev.biometry.match.LabelledScores;
import dev.biometry.match.VerificationMetrics;
import dev.biometry.testing.TestData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Accuracy on the labelled dev set and the committed calibration constants re-fitted from it, for each embedding
 * model. Skipped, with a message, when the dev set is absent.
 */
@org.junit.jupiter.api.Tag("integration")
class DevSetAccuracyTest {

    /** TAR at FAR 0.1 % of the fp32 model on the dev set (model card); int8 may be at most 0.5 points below. */
    static final double FP32_TAR_AT_FAR_1E3 = 0.9807;

    @ParameterizedTest
    @EnumSource(EmbeddingPrecision.class)
    void accuracyAndCalibrationOnTheDevSet(EmbeddingPrecision precision) throws Exception {
        Path root = TestData.facesDevOrSkip();
        List<Path> files = new ArrayList<>();
        List<String> identities = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(root)) {
            for (Path dir : dirs.filter(Files::isDirectory).sorted().toList()) {
                try (Stream<Path> images = Files.list(dir)) {
                    for (Path image :
                            images.filter(Files::isRegularFile).sorted().toList()) {
                        files.add(image);
                        identities.add(dir.getFileName().toString());
                    }
                }
            }
        }
        assertThat(files).hasSize(899);

        List<BatchEmbedder.Embedded> embedded = BatchEmbedder.embedAll(
                files,
                FaceEngineConfig.defaults(TestData.modelsDir()).withEmbeddingPrecision(precision),
                2,
                done -> {},
                null);

        List<LabelledScores.Sample> samples = new ArrayList<>();
        for (int i = 0; i < files.size(); i++) {
            assertThat(embedded.get(i).hasEmbedding())
                    .as("face found in %s", files.get(i))
                    .isTrue();
            samples.add(
                    new LabelledScores.Sample(identities.get(i), embedded.get(i).embedding()));
        }
        LabelledScores scores = LabelledScores.of(samples);
        VerificationMetrics metrics = scores.metrics();
        Calibration refit = Calibration.fit(
                scores.genuine(),
                scores.impostor(),
                Calibration.DEFAULT_ANCHOR_FAR,
                Calibration.DEFAULT_ANCHOR_CONFIDENCE);
        System.out.printf(
                "dev set, %s: AUC %.4f, EER %.4f, TAR@FAR1e-2 %.4f, TAR@FAR1e-3 %.4f; calibration fitted: "
                        + "anchor cosine %.5f, slope %.3f%n",
                precision.optionValue(),
                metrics.auc(),
                metrics.eer(),
                metrics.tarAtFar(1e-2),
                metrics.tarAtFar(1e-3),
                refit.anchorCosine(),
                refit.slope());

        assertThat(scores.genuine()).hasSize(1919);
        assertThat(scores.impostor()).hasSize(401732);
        assertThat(metrics.auc()).isGreaterThanOrEqualTo(0.999);
        assertThat(metrics.tarAtFar(1e-3))
                .isGreaterThanOrEqualTo(precision == EmbeddingPrecision.FP32 ? 0.975 : FP32_TAR_AT_FAR_1E3 - 0.005);

        Calibration committed = precision.calibration();
        assertThat(refit.anchorCosine()).isCloseTo(committed.anchorCosine(), within(0.002));
        assertThat(refit.slope()).isCloseTo(committed.slope(), within(0.05 * committed.slope()));
        // Confidence 0.85 is the cosine threshold at FAR 0.1 % on this set.
        assertThat(committed.confidence(metrics.thresholdAtFar(1e-3))).isCloseTo(0.85, within(0.005));
        assertThat(metrics.farAt(committed.cosine(0.85))).isLessThanOrEqualTo(0.0011);
    }
}
