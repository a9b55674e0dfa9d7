package dev.biometry.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The threshold_min rule and an analysis' identity from request to result header, as plain Java. */
class AnalysisIdentityTest {

    @Test
    void thresholdMinMayEqualButNotExceedTheThreshold() {
        assertThat(AnalysisParams.thresholdMinAbove(null, 0.5)).isFalse();
        assertThat(AnalysisParams.thresholdMinAbove(0.5, 0.5)).isFalse();
        assertThat(AnalysisParams.thresholdMinAbove(0.51, 0.5)).isTrue();
        assertThat(AnalysisParams.thresholdMinError(0.8, 0.85, false)).isNull();
        assertThat(AnalysisParams.thresholdMinError(0.9, 0.85, false))
                .isEqualTo(new OzError(
                        OzError.INVALID_VALUE, "params.threshold_min (0.9) must not exceed the threshold (0.85)"));
        assertThat(AnalysisParams.thresholdMinError(0.9, 0.7, true).message())
                .isEqualTo("params.threshold_min (0.9) must not exceed the threshold (0.7, the job's default)");
    }

    @Test
    void theIdentitySettlesTheThresholdAndTheHeaderShowsIt() {
        AnalysisRequest withoutThreshold =
                new AnalysisRequest("f", "an-1", null, null, 0.6, "{\"k\":\"v\"}", "http://hook.test/cb", 12_345L);

        AnalysisIdentity identity = withoutThreshold.identity(0.7);
        AnalysisHeader header = identity.header();

        assertThat(identity)
                .isEqualTo(
                        new AnalysisIdentity("an-1", "f", 0.7, 0.6, "{\"k\":\"v\"}", "http://hook.test/cb", 12_345L));
        assertThat(header.analyseId()).isEqualTo("an-1");
        assertThat(header.folderId()).isEqualTo("f");
        assertThat(header.params()).isEqualTo(new AnalysisParams(0.7, 0.6));
        assertThat(header.metaData().get("k").asText()).isEqualTo("v");
        assertThat(header.timeCreated()).isEqualTo(12.345);
        AnalysisRequest withThreshold = new AnalysisRequest("f", "an-1", null, 0.9, null, null, null, 0L);
        assertThat(withThreshold.identity(0.7).threshold()).isEqualTo(0.9);
    }
}
