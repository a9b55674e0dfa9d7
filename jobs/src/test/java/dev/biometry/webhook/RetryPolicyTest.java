package dev.biometry.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.biometry.webhook.RetryPolicy.Verdict;
import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** Which statuses end a delivery, and the backoff between attempts. */
class RetryPolicyTest {

    private final RetryPolicy policy =
            new RetryPolicy(Duration.ofSeconds(1), Duration.ofMinutes(10), Duration.ofHours(24));

    @ParameterizedTest
    @CsvSource({
        "200,DELIVERED", "201,DELIVERED", "204,DELIVERED", "299,DELIVERED",
        "400,REJECTED", "401,REJECTED", "403,REJECTED", "404,REJECTED", "410,REJECTED", "422,REJECTED", "499,REJECTED",
        "408,RETRY", "429,RETRY", "500,RETRY", "502,RETRY", "503,RETRY", "504,RETRY", "301,RETRY", "302,RETRY",
        "308,RETRY"
    })
    void statusesAreClassified(int status, Verdict expected) {
        assertThat(RetryPolicy.verdict(status)).isEqualTo(expected);
    }

    @Test
    void backoffDoublesWithJitterInTheUpperHalfAndIsCapped() {
        assertThat(policy.backoffMillis(1, 0.0)).isEqualTo(500);
        assertThat(policy.backoffMillis(1, 0.999_999)).isEqualTo(1_000);
        assertThat(policy.backoffMillis(2, 0.0)).isEqualTo(1_000);
        assertThat(policy.backoffMillis(2, 0.999_999)).isEqualTo(2_000);
        assertThat(policy.backoffMillis(4, 0.5)).isBetween(4_000L, 8_000L);
        // 2^9 s > 10 min: capped from the 11th failure on, whatever the count (no overflow)
        assertThat(policy.backoffMillis(11, 0.0)).isEqualTo(300_000);
        assertThat(policy.backoffMillis(11, 0.999_999)).isEqualTo(600_000);
        assertThat(policy.backoffMillis(10_000, 0.999_999)).isEqualTo(600_000);
    }

    @Test
    void refusesNonsenseSettings() {
        assertThatThrownBy(() -> new RetryPolicy(Duration.ZERO, Duration.ofMinutes(1), Duration.ofHours(1)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new RetryPolicy(Duration.ofMinutes(2), Duration.ofMinutes(1), Duration.ofHours(1)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new RetryPolicy(Duration.ofSeconds(1), Duration.ofMinutes(1), Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
