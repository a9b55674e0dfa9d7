package dev.biometry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.biometry.config.JobConfig;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code bench}'s A/B runs: the throughput and latency variants it runs side by side in one process. */
class BenchSettingsTest {

    private static BenchSettings parse(String... argv) {
        return BenchSettings.parse(new CommandArgs(new CommandLine(BenchSettings.spec()).parseArgs(argv)));
    }

    @Test
    void oneLatencyRunByDefaultWithTheLatencyCheckpointIntervalAndTheJobsBufferTimeoutAndGuarantee() {
        BenchSettings s = parse(
                "--latency-checkpoint-interval",
                "200ms",
                "--buffer-timeout",
                "7ms",
                "--delivery-guarantee",
                "at-least-once");
        assertThat(s.latencyVariants())
                .containsExactly(new BenchSettings.LatencyVariant(
                        Duration.ofMillis(200), Duration.ofMillis(7), JobConfig.DeliveryGuarantee.AT_LEAST_ONCE));
        assertThat(s.latencyVariants().get(0).jobOptions())
                .containsEntry("checkpoint-interval", "200ms")
                .containsEntry("buffer-timeout", "7ms")
                .containsEntry("delivery-guarantee", "at-least-once");
    }

    @Test
    void latencyVariantsAreRunInTheOrderGiven() {
        BenchSettings s = parse("--latency-variants", "100ms/flink,250ms/10, 1s/0/at-least-once", "--object-reuse");
        assertThat(s.latencyVariants())
                .containsExactly(
                        new BenchSettings.LatencyVariant(
                                Duration.ofMillis(100),
                                Duration.ofMillis(100),
                                JobConfig.DeliveryGuarantee.EXACTLY_ONCE),
                        new BenchSettings.LatencyVariant(
                                Duration.ofMillis(250),
                                Duration.ofMillis(10),
                                JobConfig.DeliveryGuarantee.EXACTLY_ONCE),
                        new BenchSettings.LatencyVariant(
                                Duration.ofSeconds(1), Duration.ZERO, JobConfig.DeliveryGuarantee.AT_LEAST_ONCE));
        assertThat(s.objectReuse()).isTrue();
        assertThat(s.latencyVariants().get(0).label())
                .isEqualTo("checkpoints every 100 ms, buffer timeout 100 ms, exactly-once");
    }

    @Test
    void aMalformedVariantNamesTheOption() {
        assertThatThrownBy(() -> parse("--latency-variants", "100ms"))
                .isInstanceOf(UsageException.class)
                .hasMessageContaining("--latency-variants");
        assertThatThrownBy(() -> parse("--latency-variants", "soon/10"))
                .isInstanceOf(UsageException.class)
                .hasMessageContaining("--latency-variants");
        assertThatThrownBy(() -> parse("--latency-variants", "100ms/10/twice"))
                .isInstanceOf(UsageException.class)
                .hasMessageContaining("'twice' is neither a delivery guarantee");
        assertThatThrownBy(() -> parse("--latency-variants", "100ms/10/no-such-option=1"))
                .isInstanceOf(UsageException.class)
                .hasMessageContaining("unknown option --no-such-option");
        assertThatThrownBy(() -> parse("--latency-variants", "100ms/10/state-backend=tape"))
                .isInstanceOf(UsageException.class)
                .hasMessageContaining("--state-backend must be hashmap or rocksdb");
    }

    @Test
    void aVariantMaySetOtherJobOptions() {
        BenchSettings s = parse("--latency-variants", "100ms/0/embedding-cache-ttl=0/state-backend=rocksdb");
        BenchSettings.LatencyVariant v = s.latencyVariants().get(0);
        assertThat(v.otherOptions())
                .containsEntry("embedding-cache-ttl", "0")
                .containsEntry("state-backend", "rocksdb");
        assertThat(v.jobOptions())
                .containsEntry("embedding-cache-ttl", "0")
                .containsEntry("buffer-timeout", "0ms")
                .containsEntry("checkpoint-interval", "100ms");
        assertThat(v.label())
                .isEqualTo("checkpoints every 100 ms, buffer timeout 0 ms, exactly-once, embedding-cache-ttl 0, "
                        + "state-backend rocksdb");
    }

    @Test
    void throughputVariantsAreTheJobOptionsTheySetInTheOrderGiven() {
        assertThat(parse().throughputVariants()).containsExactly(Map.of());
        BenchSettings s = parse("--throughput-variants", "default,buffer-timeout=100ms/fetch-capacity=4, default");
        assertThat(s.throughputVariants())
                .containsExactly(Map.of(), Map.of("buffer-timeout", "100ms", "fetch-capacity", "4"), Map.of());
        assertThat(ThroughputPhase.label(s.throughputVariants().get(1)))
                .isEqualTo("buffer-timeout 100ms, fetch-capacity 4");
        assertThat(ThroughputPhase.label(s.throughputVariants().get(0))).isEqualTo("job options as given");
        assertThatThrownBy(() -> parse("--throughput-variants", "default,fast"))
                .isInstanceOf(UsageException.class)
                .hasMessageContaining("--throughput-variants: 'fast' is neither 'default' nor OPTION=VALUE");
        assertThatThrownBy(() -> parse("--throughput-variants", "buffer-timeout=soon"))
                .isInstanceOf(UsageException.class)
                .hasMessageContaining("--throughput-variants: 'buffer-timeout=soon'");
    }
}
