package dev.biometry.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.biometry.webhook.RetryPolicy.Verdict;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Which statuses end a delivery, the backoff between attempts and how a receiver's {@code Retry-After} counts. */
class RetryPolicyTest {

    private final RetryPolicy policy =
            new RetryPolicy(Duration.ofSeconds(1), Duration.ofMinutes(10), Duration.ofHours(24));

    @ParameterizedTest
    @CsvSource({
        "200,DELIVERED",
        "201,DELIVERED",
        "204,DELIVERED",
        "299,DELIVERED",
        "400,REJECTED",
        "401,REJECTED",
        "403,REJECTED",
        "404,REJECTED",
        "410,REJECTED",
        "422,REJECTED",
        "499,REJECTED",
        "408,RETRY",
        "429,RETRY",
        "500,RETRY",
        "502,RETRY",
        "503,RETRY",
        "504,RETRY",
        "301,RETRY",
        "302,RETRY",
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
    void retryAfterInSeconds() {
        long now = 1_000_000L;
        assertThat(RetryPolicy.parseRetryAfterMillis("7", now)).isEqualTo(7_000);
        assertThat(RetryPolicy.parseRetryAfterMillis("0", now)).isZero();
        assertThat(RetryPolicy.parseRetryAfterMillis(" 120 ", now)).isEqualTo(120_000);
        assertThat(RetryPolicy.parseRetryAfterMillis("007", now)).isEqualTo(7_000);
        // more seconds than a long holds in milliseconds: as long as possible, not an overflow
        assertThat(RetryPolicy.parseRetryAfterMillis("99999999999999999999", now))
                .isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void retryAfterAsAnHttpDate() {
        long now = Instant.parse("2015-10-21T07:27:00Z").toEpochMilli();
        assertThat(RetryPolicy.parseRetryAfterMillis("Wed, 21 Oct 2015 07:28:00 GMT", now))
                .isEqualTo(60_000);
        assertThat(RetryPolicy.parseRetryAfterMillis("Wed, 21 Oct 2015 07:27:00 GMT", now))
                .isZero();
        // the obsolete forms a recipient must still accept (RFC 9110 section 5.6.7)
        assertThat(RetryPolicy.parseRetryAfterMillis("Wednesday, 21-Oct-15 07:28:00 GMT", now))
                .isEqualTo(60_000);
        assertThat(RetryPolicy.parseRetryAfterMillis("Wed Oct 21 07:28:00 2015", now))
                .isEqualTo(60_000);
        long nov1994 = Instant.parse("1994-11-06T08:49:00Z").toEpochMilli();
        assertThat(RetryPolicy.parseRetryAfterMillis("Sun Nov  6 08:49:37 1994", nov1994))
                .isEqualTo(37_000);
        // a two-digit year more than 50 years ahead is in the past century
        assertThat(RetryPolicy.parseRetryAfterMillis("Sunday, 06-Nov-94 08:49:37 GMT", nov1994))
                .isEqualTo(37_000);
    }

    @Test
    void aRetryAfterDateInThePastMeansNow() {
        long now = Instant.parse("2026-01-01T00:00:00Z").toEpochMilli();
        assertThat(RetryPolicy.parseRetryAfterMillis("Wed, 21 Oct 2015 07:28:00 GMT", now))
                .isZero();
        assertThat(RetryPolicy.parseRetryAfterMillis("Wednesday, 21-Oct-15 07:28:00 GMT", now))
                .isZero();
    }

    @ParameterizedTest
    @CsvSource(
            value = {
                "''",
                "' '",
                "soon",
                "-5",
                "-0",
                "+7",
                "7s",
                "1.5",
                "0x10",
                "7, 8",
                "'Wed, 21 Oct 2015 07:28:00 UTC'",
                "'Wed, 21 Oct 2015 07:28 GMT'",
                "'Wed, 32 Oct 2015 07:28:00 GMT'",
                "'Thu, 21 Oct 2015 07:28:00 GMT'",
                "'21 Oct 2015 07:28:00 GMT'",
                "2015-10-21T07:28:00Z"
            },
            delimiter = ';')
    void aMalformedOrNegativeRetryAfterIsIgnored(String value) {
        assertThat(RetryPolicy.parseRetryAfterMillis(value, 1_000_000L)).isEqualTo(-1);
    }

    @Test
    void anAbsentRetryAfterIsIgnored() {
        assertThat(RetryPolicy.parseRetryAfterMillis(null, 1_000_000L)).isEqualTo(-1);
    }

    @Test
    void theDelayIsTheLongerOfBackoffAndRetryAfterCappedAtTheMaximum() {
        // absent: the own backoff, jitter included
        assertThat(policy.delayMillis(1, 0.0, -1))
                .isEqualTo(policy.backoffMillis(1, 0.0))
                .isEqualTo(500);
        assertThat(policy.delayMillis(3, 0.999_999, -1)).isEqualTo(4_000);
        // longer than the backoff: what the receiver asked for
        assertThat(policy.delayMillis(1, 0.999_999, 7_000)).isEqualTo(7_000);
        // shorter (or 0): the backoff still applies
        assertThat(policy.delayMillis(1, 0.0, 200)).isEqualTo(500);
        assertThat(policy.delayMillis(2, 0.0, 0)).isEqualTo(1_000);
        // capped at the maximum backoff, however long the receiver asks
        assertThat(policy.delayMillis(1, 0.0, 3_600_000)).isEqualTo(600_000);
        assertThat(policy.delayMillis(1, 0.0, Long.MAX_VALUE)).isEqualTo(600_000);
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
