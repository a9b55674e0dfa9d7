package dev.biometry.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The webhook options: defaults, typed values, refused values, and the secret kept out of {@code toString}. */
class WebhookOptionsTest {

    @Test
    void defaultsAreSafe() {
        JobConfig c = JobConfig.fromOptions(Map.of());
        assertThat(c.webhookSecret()).isEmpty();
        assertThat(c.webhookAllowHosts()).isEmpty();
        assertThat(c.webhookAllowHttp()).isFalse();
        assertThat(c.webhookAllowPrivate()).isFalse();
        assertThat(c.webhookDeadline()).isEqualTo(Duration.ofHours(24));
        assertThat(c.webhookInitialBackoff()).isEqualTo(Duration.ofSeconds(1));
        assertThat(c.webhookMaxBackoff()).isEqualTo(Duration.ofMinutes(10));
        assertThat(c.webhookMaxInFlight()).isEqualTo(32);
        assertThat(c.webhookConnectTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(c.webhookTimeout()).isEqualTo(Duration.ofSeconds(10));
    }

    @Test
    void valuesAreTyped() {
        JobConfig c = JobConfig.fromOptions(Map.of(
                "webhook-allow-hosts",
                "hooks.example.com, *.partner.example",
                "webhook-allow-http",
                "true",
                "webhook-deadline",
                "2h",
                "webhook-initial-backoff",
                "500ms"));
        assertThat(c.webhookAllowHosts()).containsExactly("hooks.example.com", "*.partner.example");
        assertThat(c.webhookAllowHttp()).isTrue();
        assertThat(c.webhookDeadline()).isEqualTo(Duration.ofHours(2));
        assertThat(c.webhookInitialBackoff()).isEqualTo(Duration.ofMillis(500));
    }

    @Test
    void badValuesFailNamingTheOption() {
        assertThatThrownBy(() -> JobConfig.fromOptions(Map.of("webhook-max-in-flight", "0")))
                .hasMessageContaining("--webhook-max-in-flight");
        assertThatThrownBy(() -> JobConfig.fromOptions(Map.of("webhook-deadline", "0s")))
                .hasMessageContaining("--webhook-deadline");
        assertThatThrownBy(() ->
                        JobConfig.fromOptions(Map.of("webhook-initial-backoff", "5m", "webhook-max-backoff", "1m")))
                .hasMessageContaining("--webhook-max-backoff");
        assertThatThrownBy(() -> JobConfig.fromOptions(Map.of("webhook-allow-private", "yes")))
                .hasMessageContaining("--webhook-allow-private");
    }

    @Test
    void theSecretIsNotPrinted() {
        JobConfig c = JobConfig.fromOptions(Map.of("webhook-secret", "hunter2"));
        assertThat(c.webhookSecret()).isEqualTo("hunter2");
        assertThat(c.toString()).doesNotContain("hunter2").contains("webhook-secret=******");
    }
}
