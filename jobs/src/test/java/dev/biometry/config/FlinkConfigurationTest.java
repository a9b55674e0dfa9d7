package dev.biometry.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.GlobalConfiguration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The job's options under their {@code biometry.} keys in a Flink configuration, as a cluster's config.yaml gives. */
class FlinkConfigurationTest {

    /** The same settings as {@code --name value} options and as a config.yaml of the cluster. */
    private static final Map<String, String> GIVEN = given();

    private static Map<String, String> given() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("bootstrap-servers", "kafka-0:9092,kafka-1:9092");
        m.put("media-topic", "prod.media");
        m.put("starting-offsets", "latest");
        m.put("checkpoint-interval", "30s");
        m.put("transaction-timeout", "12m");
        m.put("media-wait", "90"); // a plain number is seconds, on the command line and in config.yaml alike
        m.put("folder-ttl", "2d");
        m.put("media-max-bytes", "20mb");
        m.put("detection-score", "0.7");
        m.put("threshold", "0.9");
        m.put("embedding-precision", "fp32");
        m.put("face-policy", "reject");
        m.put("non-persistent", "true");
        m.put("http-allow-hosts", "a.example, b.example");
        m.put("max-media-per-analysis", "7");
        m.put("video-max-seconds", "2.5");
        m.put("webhook-initial-backoff", "500ms");
        m.put("webhook-secret", "s3cret");
        return m;
    }

    @Test
    void aConfigYamlWithBiometryKeysGivesTheSameConfigAsTheOptions(@TempDir Path dir) throws Exception {
        StringBuilder yaml = new StringBuilder("parallelism.default: 4\nbiometry:\n");
        GIVEN.forEach((name, value) ->
                yaml.append("  ").append(name).append(": \"").append(value).append("\"\n"));
        Files.writeString(dir.resolve("config.yaml"), yaml.toString());
        Configuration cluster = GlobalConfiguration.loadConfiguration(dir.toString());

        JobConfig fromYaml = JobConfig.fromConfiguration(cluster, Map.of());
        JobConfig fromOptions = JobConfig.fromOptions(GIVEN, Map.of());

        assertThat(fromYaml).isEqualTo(fromOptions).hasSameHashCodeAs(fromOptions);
        assertThat(fromYaml.mediaWait()).isEqualTo(Duration.ofSeconds(90));
        assertThat(fromYaml.folderTtl()).isEqualTo(Duration.ofDays(2));
        assertThat(fromYaml.mediaMaxBytes()).isEqualTo(20L << 20);
        assertThat(fromYaml.startingOffsets()).isEqualTo("latest");
        assertThat(fromYaml.facePolicy()).isEqualTo("reject");
        assertThat(fromYaml.videoMaxDuration()).isEqualTo(Duration.ofMillis(2500));
        assertThat(fromYaml.webhookInitialBackoff()).isEqualTo(Duration.ofMillis(500));
        assertThat(fromYaml.httpAllowHosts()).containsExactly("a.example", "b.example");
        assertThat(fromYaml.inputLimits().maxMediaPerAnalysis()).isEqualTo(7);
        assertThat(fromYaml).isNotEqualTo(JobConfig.fromOptions(Map.of(), Map.of()));
    }

    @Test
    void optionsOnTheCommandLineWinOverTheClusterConfiguration() {
        Configuration cluster = conf("biometry.media-wait", "2m");
        cluster.setString("biometry.group-id", "from-yaml");

        JobConfig config = JobConfig.fromOptions(Map.of("media-wait", "45s"), cluster, Map.of());

        assertThat(config.mediaWait()).isEqualTo(Duration.ofSeconds(45));
        assertThat(config.groupId()).isEqualTo("from-yaml");
        assertThat(cluster.getString("biometry.media-wait", null))
                .as("the cluster's copy untouched")
                .isEqualTo("2m");
        assertThatThrownBy(() -> JobConfig.fromOptions(Map.of(), conf("biometry.folder-ttl", "0s"), Map.of()))
                .hasMessageContaining("--folder-ttl must be > 0");
    }

    @Test
    void typedValuesSetOnAFlinkConfigurationAreReadAsTheyAre() {
        Configuration c = new Configuration();
        c.set(JobConfig.MEDIA_WAIT, Duration.ofMinutes(3));
        c.set(JobConfig.FACE_POLICY, JobConfig.FacePolicy.REJECT);
        c.set(JobConfig.PARALLELISM, 2);

        JobConfig config = JobConfig.fromConfiguration(c, Map.of());

        assertThat(config.mediaWait()).isEqualTo(Duration.ofMinutes(3));
        assertThat(config.facePolicy()).isEqualTo("reject");
        assertThat(config.parallelism()).isEqualTo(2);
        assertThat(config)
                .isEqualTo(JobConfig.fromOptions(
                        Map.of("media-wait", "3m", "face-policy", "reject", "parallelism", "2"), Map.of()));
    }

    @Test
    void everyValueSurvivesTheFlinkConfigurationRoundTrip() {
        JobConfig config = JobConfig.fromOptions(GIVEN, Map.of());

        assertThat(JobConfig.fromConfiguration(config.toConfiguration(), Map.of()))
                .isEqualTo(config)
                .hasToString(config.toString());
        assertThat(config.toConfiguration().keySet())
                .as("every option is written back")
                .hasSize(JobConfig.OPTIONS.size() - 1); // the secret file is read once into the secret
        assertThat(config.withBootstrapServers("other:9092").bootstrapServers()).isEqualTo("other:9092");
        assertThat(config.withBootstrapServers("other:9092").mediaWait()).isEqualTo(Duration.ofSeconds(90));
    }

    @Test
    void anInvalidValueInTheFlinkConfigurationNamesItsOption() {
        assertThatThrownBy(() -> JobConfig.fromConfiguration(conf("biometry.media-wait", "soon"), Map.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--media-wait")
                .hasMessageContaining("soon");
        assertThatThrownBy(() -> JobConfig.fromConfiguration(conf("biometry.frames", "many"), Map.of()))
                .hasMessageContaining("--frames: not an integer: 'many'");
        assertThatThrownBy(() -> JobConfig.fromConfiguration(conf("biometry.frames", "0"), Map.of()))
                .hasMessageContaining("--frames must be >= 1");
        assertThatThrownBy(() -> JobConfig.fromConfiguration(conf("biometry.starting-offsets", "newest"), Map.of()))
                .hasMessageContaining("--starting-offsets must be one of earliest, latest, committed-or-earliest");
        assertThatThrownBy(() -> JobConfig.fromConfiguration(conf("biometry.media-max-bytes", "lots"), Map.of()))
                .hasMessageContaining("--media-max-bytes");
        assertThatThrownBy(() -> JobConfig.fromConfiguration(conf("biometry.no-such-option", "1"), Map.of()))
                .hasMessageContaining("unknown option --no-such-option");
        assertThat(JobConfig.fromConfiguration(conf("parallelism.default", "3"), Map.of()))
                .as("the cluster's own keys are not the job's")
                .isEqualTo(JobConfig.fromOptions(Map.of(), Map.of()));
    }

    @Test
    void theOptionsAreTheConfigOptionsWithTheirDefaultsAsTyped() {
        assertThat(JobConfig.CHECKPOINT_INTERVAL.key()).isEqualTo("biometry.checkpoint-interval");
        assertThat(JobConfig.OPTIONS)
                .filteredOn(o -> o.name().equals("media-wait"))
                .singleElement()
                .extracting(JobConfig.Option::defaultValue)
                .isEqualTo("60s");
        assertThat(JobConfig.OPTIONS)
                .filteredOn(o -> o.name().equals("webhook-deadline"))
                .singleElement()
                .extracting(JobConfig.Option::defaultValue)
                .isEqualTo("24h");
        assertThat(JobConfig.durationText(Duration.ofDays(7))).isEqualTo("7d");
        assertThat(JobConfig.durationText(Duration.ofMillis(1500))).isEqualTo("1500ms");
        // Every default as written parses back to the option's default.
        JobConfig defaults = JobConfig.fromOptions(Map.of(), Map.of());
        Map<String, String> written = new LinkedHashMap<>();
        JobConfig.OPTIONS.stream()
                .filter(o -> o.defaultValue() != null)
                .forEach(o -> written.put(o.name(), o.defaultValue()));
        assertThat(JobConfig.fromOptions(written, Map.of())).isEqualTo(defaults);
    }

    private static Configuration conf(String key, String value) {
        return Configuration.fromMap(new LinkedHashMap<>(Map.of(key, value)));
    }
}
