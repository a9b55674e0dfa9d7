package dev.biometry.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Option parsing, validation, and the option table of docs/operations.md staying complete and current. */
class JobConfigTest {

    @Test
    void defaultsAndOverridesAreTyped() {
        JobConfig c = JobConfig.fromOptions(
                Map.of("media-wait", "90s", "folder-ttl", "2d", "http-allow-hosts", "a.example, *.cdn.example"));
        assertThat(c.mediaWait()).isEqualTo(Duration.ofSeconds(90));
        assertThat(c.folderTtl()).isEqualTo(Duration.ofDays(2));
        assertThat(c.checkpointInterval()).isEqualTo(Duration.ofSeconds(10));
        assertThat(c.httpAllowHosts()).containsExactly("a.example", "*.cdn.example");
        assertThat(c.defaultThreshold()).isEqualTo(0.85);
        assertThat(c.nonPersistent()).isFalse();
    }

    @Test
    void defaultsAreTheDocumentedOnes() {
        JobConfig c = JobConfig.fromOptions(Map.of());
        assertThat(c.mediaWait()).isEqualTo(Duration.ofSeconds(60));
        assertThat(c.embeddingCacheTtl()).isEqualTo(Duration.ofHours(24));
        assertThat(c.defaultThreshold()).isEqualTo(0.85);
        assertThat(c.parallelism()).isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(c.ortThreads()).isEqualTo(1);
        assertThat(c.mediaMaxBytes()).isEqualTo(10L << 20);
        assertThat(c.maxPixels()).isEqualTo(40_000_000L);
        assertThat(c.videoMaxDuration()).isEqualTo(Duration.ofSeconds(10));
        assertThat(c.frames()).isEqualTo(10);
        assertThat(c.bestFrames()).isEqualTo(3);
        assertThat(c.facePolicy()).isEqualTo("largest");
        assertThat(c.minFaceSide()).isEqualTo(40);
        assertThat(c.httpAllowHosts()).isEmpty();
        assertThat(c.httpAllowPrivate()).isFalse();
        assertThat(c.httpMaxRedirects()).isEqualTo(3);
        assertThat(c.nonPersistent()).isFalse();
    }

    @Test
    void theOutputCapsHaveTheirDefaultsAndRefuseValuesThatCannotWork() {
        JobConfig c = JobConfig.fromOptions(Map.of());
        assertThat(c.inputLimits()).isEqualTo(dev.biometry.api.InputLimits.DEFAULTS);
        assertThat(c.maxRecordBytes()).isEqualTo(1_000_000);
        assertThat(JobConfig.fromOptions(Map.of("max-media-per-analysis", "7"))
                        .inputLimits()
                        .maxMediaPerAnalysis())
                .isEqualTo(7);

        assertThatThrownBy(() -> JobConfig.fromOptions(Map.of("max-media-per-analysis", "1")))
                .hasMessageContaining("--max-media-per-analysis");
        assertThatThrownBy(() -> JobConfig.fromOptions(Map.of("max-record-bytes", "1000")))
                .hasMessageContaining("--max-record-bytes must be at least 65536");
        assertThatThrownBy(() -> JobConfig.fromOptions(Map.of("max-record-bytes", "65536")))
                .as("the default 64 KiB dead-letter payload, escaped, could not fit")
                .hasMessageContaining("--dead-letter-max-payload-bytes must be at most --max-record-bytes / 8");
    }

    @Test
    void theWebhookSecretComesFromTheOptionTheFileOrTheEnvironment(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("secret");
        Files.writeString(file, "from-file\n");
        Map<String, String> env = Map.of(JobConfig.WEBHOOK_SECRET_ENV, "from-env");

        assertThat(JobConfig.fromOptions(Map.of("webhook-secret", "given"), env).webhookSecret())
                .isEqualTo("given");
        assertThat(JobConfig.fromOptions(Map.of("webhook-secret-file", file.toString()), env)
                        .webhookSecret())
                .as("one trailing newline dropped")
                .isEqualTo("from-file");
        assertThat(JobConfig.fromOptions(Map.of(), env).webhookSecret()).isEqualTo("from-env");
        assertThat(JobConfig.fromOptions(Map.of(), Map.of()).webhookSecret()).isEmpty();
        assertThat(JobConfig.fromOptions(Map.of("webhook-secret", "given"), env).toString())
                .doesNotContain("given")
                .contains("******");

        assertThatThrownBy(() -> JobConfig.fromOptions(
                        Map.of("webhook-secret", "given", "webhook-secret-file", file.toString()), env))
                .hasMessageContaining("give one of them");
        assertThatThrownBy(() -> JobConfig.fromOptions(
                        Map.of("webhook-secret-file", dir.resolve("missing").toString()), env))
                .hasMessageContaining("--webhook-secret-file")
                .hasMessageContaining("missing");
        Files.writeString(file, "\n");
        assertThatThrownBy(() -> JobConfig.fromOptions(Map.of("webhook-secret-file", file.toString()), env))
                .hasMessageContaining("is empty");
    }

    @Test
    void badValuesFailNamingTheOption() {
        assertThatThrownBy(() -> JobConfig.fromOptions(Map.of("media-wait", "soon")))
                .hasMessageContaining("--media-wait");
        assertThatThrownBy(() -> JobConfig.fromOptions(Map.of("threshold", "1.5")))
                .hasMessageContaining("--threshold");
        assertThatThrownBy(() -> JobConfig.fromOptions(Map.of("face-policy", "smallest")))
                .hasMessageContaining("--face-policy");
        assertThatThrownBy(() -> JobConfig.fromOptions(Map.of("no-such-option", "1")))
                .hasMessageContaining("unknown option");
        assertThatThrownBy(() -> JobConfig.fromOptions(Map.of("non-persistent", "maybe")))
                .hasMessageContaining("--non-persistent");
    }

    /**
     * The option table of docs/operations.md is {@link JobConfig#markdownTable()}: every option in the order of
     * {@link JobConfig#OPTIONS}, with its default and meaning, and no other row. Only the default of
     * {@code --parallelism} (the machine's cores) is written as the word {@code cores}.
     */
    @Test
    void theOperationsGuideTableIsTheOptionsWithTheirDefaults() throws Exception {
        Path guide = Path.of(System.getProperty("user.dir"))
                .resolve("../docs/operations.md")
                .normalize();
        List<String> documented = Files.readAllLines(guide).stream()
                .filter(l -> l.startsWith("| `--"))
                .toList();
        List<String> expected = JobConfig.markdownTable()
                .lines()
                .filter(l -> l.startsWith("| `--"))
                .map(l -> l.startsWith("| `--parallelism` |")
                        ? l.replaceFirst("^\\| `--parallelism` \\| `\\d+` \\|", "| `--parallelism` | cores |")
                        : l)
                .toList();

        assertThat(names(documented))
                .as("options documented in %s, in the order of JobConfig.OPTIONS", guide)
                .containsExactlyElementsOf(
                        JobConfig.OPTIONS.stream().map(o -> "--" + o.name()).toList());
        assertThat(cells(documented, 2)).as("defaults in %s", guide).containsExactlyElementsOf(cells(expected, 2));
        assertThat(documented)
                .as("rows of %s: regenerate them with JobConfig.markdownTable()", guide)
                .containsExactlyElementsOf(expected);
    }

    private static List<String> names(List<String> rows) {
        return cells(rows, 1).stream().map(c -> c.replace("`", "")).toList();
    }

    /** Cell {@code index} (1 = option, 2 = default) of each Markdown table row. */
    private static List<String> cells(List<String> rows, int index) {
        return rows.stream()
                .map(r -> r.split(" \\| ", 4))
                .map(c -> index == 1 ? c[0].substring(2) : c[index - 1])
                .toList();
    }
}
