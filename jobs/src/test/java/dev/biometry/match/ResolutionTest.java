package dev.biometry.match;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ResolutionTest {

    @Test
    void successAtAndAboveThreshold() {
        assertThat(Resolution.decide(0.85, 0.85, null)).isEqualTo(Resolution.SUCCESS);
        assertThat(Resolution.decide(0.85, 0.85, 0.5)).isEqualTo(Resolution.SUCCESS);
        assertThat(Resolution.decide(1.0, 0.85, 0.5)).isEqualTo(Resolution.SUCCESS);
        assertThat(Resolution.decide(0.0, 0.0, null)).isEqualTo(Resolution.SUCCESS);
    }

    @Test
    void operatorRequiredFromThresholdMinUpToButExcludingThreshold() {
        assertThat(Resolution.decide(0.5, 0.85, 0.5)).isEqualTo(Resolution.OPERATOR_REQUIRED);
        assertThat(Resolution.decide(Math.nextDown(0.85), 0.85, 0.5)).isEqualTo(Resolution.OPERATOR_REQUIRED);
        assertThat(Resolution.decide(Math.nextDown(0.5), 0.85, 0.5)).isEqualTo(Resolution.DECLINED);
    }

    @Test
    void declinedBelowThresholdWithoutThresholdMin() {
        assertThat(Resolution.decide(Math.nextDown(0.85), 0.85, null)).isEqualTo(Resolution.DECLINED);
        assertThat(Resolution.decide(0.0, 0.85, null)).isEqualTo(Resolution.DECLINED);
    }

    @Test
    void equalThresholdsLeaveNoRoomForTheOperator() {
        assertThat(Resolution.decide(0.7, 0.7, 0.7)).isEqualTo(Resolution.SUCCESS);
        assertThat(Resolution.decide(Math.nextDown(0.7), 0.7, 0.7)).isEqualTo(Resolution.DECLINED);
    }

    @Test
    void rejectsInvalidThresholds() {
        assertThatThrownBy(() -> Resolution.decide(0.5, 1.1, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("threshold must be in [0, 1]");
        assertThatThrownBy(() -> Resolution.decide(0.5, 0.8, -0.1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("thresholdMin must be in [0, 1]");
        assertThatThrownBy(() -> Resolution.decide(0.5, 0.6, 0.7))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("thresholdMin (0.7) must not exceed threshold (0.6)");
        assertThatThrownBy(() -> Resolution.decide(Double.NaN, 0.6, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("minConfidence");
        assertThatThrownBy(() -> Resolution.decide(0.5, Double.NaN, null)).isInstanceOf(IllegalArgumentException.class);
    }
}
