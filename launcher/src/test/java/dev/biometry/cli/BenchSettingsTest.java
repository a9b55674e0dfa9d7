package dev.biometry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code bench}'s latency A/B: the variants it runs side by side in one process. */
class BenchSettingsTest {

    private static BenchSettings parse(String... argv) {
        return BenchSettings.parse(new CommandArgs(new CommandLine(BenchSettings.spec()).parseArgs(argv)));
    }

    @Test
    void oneLatencyRunByDefaultWithTheLatencyCheckpointIntervalAndBufferTimeout() {
        BenchSettings s = parse("--latency-checkpoint-interval", "200ms", "--buffer-timeout", "7");
        assertThat(s.latencyVariants())
                .containsExactly(
                        new BenchSettings.LatencyVariant(Duration.ofMillis(200), new PipelineRun.Tuning(7L, false)));
    }

    @Test
    void latencyVariantsAreRunInTheOrderGiven() {
        BenchSettings s = parse("--latency-variants", "100ms/flink,250ms/10, 1s/0", "--object-reuse");
        assertThat(s.latencyVariants())
                .containsExactly(
                        new BenchSettings.LatencyVariant(Duration.ofMillis(100), new PipelineRun.Tuning(null, true)),
                        new BenchSettings.LatencyVariant(Duration.ofMillis(250), new PipelineRun.Tuning(10L, true)),
                        new BenchSettings.LatencyVariant(Duration.ofSeconds(1), new PipelineRun.Tuning(0L, true)));
        assertThat(s.latencyVariants().get(0).label())
                .isEqualTo("checkpoints every 100 ms, buffer timeout Flink's default");
    }

    @Test
    void aMalformedVariantNamesTheOption() {
        assertThatThrownBy(() -> parse("--latency-variants", "100ms"))
                .isInstanceOf(UsageException.class)
                .hasMessageContaining("--latency-variants");
        assertThatThrownBy(() -> parse("--latency-variants", "soon/10"))
                .isInstanceOf(UsageException.class)
                .hasMessageContaining("--latency-variants");
    }
}
