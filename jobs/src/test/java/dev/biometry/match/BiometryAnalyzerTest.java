package dev.biometry.match;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.biometry.api.Analysis;
import dev.biometry.api.AnalysisHeader;
import dev.biometry.api.AnalysisParams;
import dev.biometry.api.Json;
import dev.biometry.api.MediaObject;
import dev.biometry.api.MediaType;
import dev.biometry.api.OzError;
import dev.biometry.api.ResultMedia;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The Oz analysis object {@link BiometryAnalyzer} makes of an analysis' media outcomes, as plain Java: verdicts by
 * the lowest pair confidence against threshold and threshold_min, per-media ranges, a media without a face
 * (DECLINED), an unreadable media and too few media (FAILED with their codes), and the PROCESSING record.
 */
class BiometryAnalyzerTest {

    private static final Calibration CALIBRATION = Calibration.DEFAULT;
    private static final BiometryAnalyzer ANALYZER = new BiometryAnalyzer(CALIBRATION);

    /** The first media's template; the others are placed at a chosen confidence from it. */
    private static final float[] A = unit(1, 0, 0);

    @Test
    void twoMediaOfOneFaceSucceedWithTheirPairConfidenceEverywhere() {
        float[] same = atConfidence(0.95);
        Analysis a = ANALYZER.finish(header(null), List.of(matched("m1", A), matched("m2", same)), 20.0);

        double expected = CALIBRATION.confidence(PairwiseMatch.cosine(A, same));
        assertThat(expected).as("above the default threshold").isGreaterThanOrEqualTo(AnalysisParams.DEFAULT_THRESHOLD);
        assertThat(a.state()).isEqualTo(Analysis.STATE_FINISHED);
        assertThat(a.resolutionStatus()).isEqualTo("SUCCESS");
        assertThat(a.resolution()).isEqualTo("SUCCESS");
        assertThat(a.type()).isEqualTo(Analysis.TYPE_BIOMETRY);
        assertThat(a.analyseId()).isEqualTo("an-1");
        assertThat(a.folderId()).isEqualTo("folder-1");
        assertThat(a.timeCreated()).isEqualTo(10.0);
        assertThat(a.timeUpdated()).isEqualTo(20.0);
        assertThat(a.errorCode()).isNull();
        assertThat(a.resultsData().minConfidence()).isCloseTo(expected, within(1e-9));
        assertThat(a.resultsData().maxConfidence()).isCloseTo(expected, within(1e-9));
        assertThat(a.sourceMedia()).extracting(MediaObject::mediaId).containsExactly("m1", "m2");
        assertThat(a.resultsMedia()).extracting(ResultMedia::sourceImageId).containsExactly("m1", "m2");
        assertThat(a.resultsMedia()).allSatisfy(m -> {
            assertThat(m.resultsData().minConfidence()).isCloseTo(expected, within(1e-9));
            assertThat(m.resultsData().facesDetected()).isEqualTo(1);
            assertThat(m.error()).isNull();
        });
        assertThat(a.metaData().get("case").asText()).isEqualTo("unit");
    }

    @Test
    void threeMediaGiveTheLowestAndHighestPairOverallAndPerMedia() {
        float[] close = atConfidence(0.97);
        float[] far = unit(0, 0, 1); // orthogonal to A and close: the lowest pairs
        Analysis a = ANALYZER.finish(
                header(null), List.of(matched("m1", A), matched("m2", close), matched("m3", far)), 20.0);

        double high = CALIBRATION.confidence(PairwiseMatch.cosine(A, close));
        double low1 = CALIBRATION.confidence(PairwiseMatch.cosine(A, far));
        double low2 = CALIBRATION.confidence(PairwiseMatch.cosine(close, far));
        assertThat(a.resultsData().maxConfidence()).isCloseTo(high, within(1e-9));
        assertThat(a.resultsData().minConfidence()).isCloseTo(Math.min(low1, low2), within(1e-9));
        assertThat(a.resolutionStatus()).isEqualTo("DECLINED");
        ResultMedia m3 = a.resultsMedia().get(2);
        assertThat(m3.resultsData().minConfidence()).isCloseTo(Math.min(low1, low2), within(1e-9));
        assertThat(m3.resultsData().maxConfidence()).isCloseTo(Math.max(low1, low2), within(1e-9));
        ResultMedia m1 = a.resultsMedia().get(0);
        assertThat(m1.resultsData().minConfidence()).isCloseTo(low1, within(1e-9));
        assertThat(m1.resultsData().maxConfidence()).isCloseTo(high, within(1e-9));
    }

    @Test
    void theThresholdsOfTheRequestDecideBetweenSuccessOperatorRequiredAndDeclined() {
        float[] other = atConfidence(0.7);
        double confidence = CALIBRATION.confidence(PairwiseMatch.cosine(A, other));
        List<MediaOutcome> outcomes = List.of(matched("m1", A), matched("m2", other));

        assertThat(ANALYZER.finish(header(new AnalysisParams(confidence - 0.01, null)), outcomes, 20.0)
                        .resolutionStatus())
                .isEqualTo("SUCCESS");
        Analysis review =
                ANALYZER.finish(header(new AnalysisParams(confidence + 0.01, confidence - 0.01)), outcomes, 20.0);
        assertThat(review.resolutionStatus()).isEqualTo("OPERATOR_REQUIRED");
        assertThat(review.params().threshold()).isEqualTo(confidence + 0.01);
        assertThat(ANALYZER.finish(header(new AnalysisParams(confidence + 0.01, confidence + 0.005)), outcomes, 20.0)
                        .resolutionStatus())
                .isEqualTo("DECLINED");
    }

    @Test
    void aThresholdMinAboveTheThresholdFailsWithError4InsteadOfAVerdict() {
        Analysis a = ANALYZER.finish(
                header(new AnalysisParams(0.8, 0.9)), List.of(matched("m1", A), matched("m2", A)), 20.0);
        assertThat(a.state()).isEqualTo(Analysis.STATE_FAILED);
        assertThat(a.resolutionStatus()).isEqualTo(Analysis.STATE_FAILED);
        assertThat(a.errorCode()).isEqualTo(OzError.INVALID_VALUE);
        assertThat(a.errorMessage()).contains("threshold_min (0.9)").contains("(0.8)");
        assertThat(a.resultsData()).isNull();
    }

    @Test
    void aMediaWithoutAFaceDeclinesTheAnalysisAndScoresZero() {
        Analysis a = ANALYZER.finish(header(null), List.of(matched("m1", A), MediaOutcome.noFace(media("grey"))), 20.0);
        assertThat(a.state()).isEqualTo(Analysis.STATE_FINISHED);
        assertThat(a.resolutionStatus()).isEqualTo("DECLINED");
        assertThat(a.resultsData().minConfidence()).isZero();
        ResultMedia grey = a.resultsMedia().get(1);
        assertThat(grey.resultsData().facesDetected()).isZero();
        assertThat(grey.error().code()).isEqualTo(OzError.INVALID_VALUE);
        assertThat(grey.error().message()).contains("no face").contains("grey");
    }

    @Test
    void anUnreadableMediaFailsTheAnalysisWithItsOwnError() {
        OzError notFound = new OzError(OzError.NOT_EXIST, "media gone: file not found");
        Analysis a = ANALYZER.finish(
                header(null),
                List.of(matched("m1", A), MediaOutcome.failed(media("gone"), notFound, 3L), matched("m3", A)),
                20.0);
        assertThat(a.state()).isEqualTo(Analysis.STATE_FAILED);
        assertThat(a.errorCode()).isEqualTo(OzError.NOT_EXIST);
        assertThat(a.errorMessage()).isEqualTo("media gone: file not found");
        assertThat(a.resultsData()).as("no verdict, no confidences").isNull();
        assertThat(a.resultsMedia()).extracting(ResultMedia::sourceMediaId).containsExactly("m1", "gone", "m3");
        assertThat(a.resultsMedia().get(1).error()).isEqualTo(notFound);
        assertThat(a.resultsMedia().get(1).resultsData().processingMs()).isEqualTo(3L);
    }

    @Test
    void fewerThanTwoMediaFailWithError4() {
        Analysis a = ANALYZER.finish(header(null), List.of(matched("m1", A)), 20.0);
        assertThat(a.state()).isEqualTo(Analysis.STATE_FAILED);
        assertThat(a.errorCode()).isEqualTo(OzError.INVALID_VALUE);
        assertThat(a.errorMessage()).contains("at least two eligible media");
    }

    @Test
    void theProcessingRecordHasNoResultsYet() {
        Analysis p = BiometryAnalyzer.processing(header(null), List.of(media("m1"), media("m2")), 11.0);
        assertThat(p.state()).isEqualTo(Analysis.STATE_PROCESSING);
        assertThat(p.resolutionStatus()).isEqualTo(Analysis.STATE_PROCESSING);
        assertThat(p.resultsData()).isNull();
        assertThat(p.resultsMedia()).isNull();
        assertThat(p.sourceMedia()).extracting(MediaObject::mediaId).containsExactly("m1", "m2");
        assertThat(p.timeUpdated()).isEqualTo(11.0);
    }

    // ---- helpers

    private static AnalysisHeader header(AnalysisParams params) {
        return new AnalysisHeader("an-1", "folder-1", params, Json.parseOrNull("{\"case\":\"unit\"}"), 10.0);
    }

    private static MediaObject media(String id) {
        return new MediaObject(id, "folder-1", MediaType.IMAGE_FOLDER, List.of("photo_selfie"), null, null);
    }

    private static MediaOutcome matched(String id, float[] embedding) {
        return MediaOutcome.matched(media(id), 1, embedding, null);
    }

    /** A unit vector whose pair with {@link #A} has (about) {@code confidence}, in the plane of their first two axes. */
    private static float[] atConfidence(double confidence) {
        double c = CALIBRATION.cosine(confidence);
        return unit((float) c, (float) Math.sqrt(1 - c * c), 0);
    }

    private static float[] unit(float... v) {
        double n = 0;
        for (float x : v) {
            n += x * x;
        }
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (float) (v[i] / Math.sqrt(n));
        }
        return out;
    }
}
