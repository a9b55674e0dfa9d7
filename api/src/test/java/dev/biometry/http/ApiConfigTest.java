package dev.biometry.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** API options: defaults, parsing, secrets kept off the command line, and the table of docs/http-api.md in sync. */
class ApiConfigTest {

    @Test
    void defaultsAndParsing() {
        ApiConfig c = ApiConfig.fromArgs(
                new String[] {"--bootstrap-servers", "k:9092", "--session-ttl", "90s", "--demo-user", "--max-files", "3"
                },
                Map.of());
        assertThat(c.port()).isEqualTo(8080);
        assertThat(c.host()).isEqualTo("127.0.0.1");
        assertThat(c.sessionTtl()).isEqualTo(Duration.ofSeconds(90));
        assertThat(c.serviceSessionTtl()).isEqualTo(Duration.ofDays(1825));
        assertThat(c.demoUser()).isTrue();
        assertThat(c.maxFilesPerFolder()).isEqualTo(3);
        assertThat(c.maxFileBytes()).isEqualTo(10L * 1024 * 1024);
        assertThat(c.dbUrl()).startsWith("jdbc:h2:file:").contains("MODE=PostgreSQL");
        assertThat(ApiConfig.duration("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(ApiConfig.duration("15m")).isEqualTo(Duration.ofMinutes(15));
    }

    @Test
    void refusesWhatItCannotUse() {
        assertThatThrownBy(() -> ApiConfig.fromArgs(new String[0], Map.of()))
                .hasMessageContaining("--bootstrap-servers");
        assertThatThrownBy(() ->
                        ApiConfig.fromArgs(new String[] {"--bootstrap-servers", "k", "--db-password", "x"}, Map.of()))
                .hasMessageContaining("unknown option --db-password");
        assertThatThrownBy(() -> ApiConfig.duration("soon")).hasMessageContaining("bad duration");
    }

    @Test
    void databasePasswordComesFromAFileOrTheEnvironment(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        assertThat(ApiConfig.fromArgs(
                                new String[] {"--bootstrap-servers", "k"},
                                Map.of(ApiConfig.DB_PASSWORD_ENV, "from-env"))
                        .dbPassword())
                .isEqualTo("from-env");
        Path file = Files.writeString(dir.resolve("pw"), "from-file\n");
        assertThat(ApiConfig.fromArgs(
                                new String[] {"--bootstrap-servers", "k", "--db-password-file", file.toString()},
                                Map.of(ApiConfig.DB_PASSWORD_ENV, "from-env"))
                        .dbPassword())
                .isEqualTo("from-file");
    }

    @Test
    void theHttpApiGuideListsEveryOption() throws Exception {
        String guide = Files.readString(Path.of(System.getProperty("user.dir")).resolve("../docs/http-api.md"));
        assertThat(guide).contains(ApiConfig.markdownTable());
    }
}
