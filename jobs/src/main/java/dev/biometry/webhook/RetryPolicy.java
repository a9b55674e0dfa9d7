package dev.biometry.webhook;

import java.io.Serializable;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.ResolverStyle;
import java.time.temporal.ChronoField;
import java.util.List;
import java.util.Locale;

/**
 * When webhook attempts are repeated: which statuses end a delivery, and the exponential backoff with jitter
 * between attempts, lengthened to a longer {@code Retry-After} of the receiver. Attempts stop at the deadline,
 * counted from when the result was ready for delivery.
 *
 * @param initialBackoff the delay after the first failed attempt (before jitter)
 * @param maxBackoff the largest delay between two attempts (before jitter), also for a {@code Retry-After}
 * @param deadline how long a delivery is retried
 */
public record RetryPolicy(Duration initialBackoff, Duration maxBackoff, Duration deadline) implements Serializable {

    /** IMF-fixdate, the preferred HTTP-date: {@code Sun, 06 Nov 1994 08:49:37 GMT}. */
    private static final DateTimeFormatter IMF_FIXDATE = DateTimeFormatter.ofPattern(
                    "EEE, dd MMM uuuu HH:mm:ss 'GMT'", Locale.ENGLISH)
            .withResolverStyle(ResolverStyle.STRICT)
            .withZone(ZoneOffset.UTC);
    /** The obsolete asctime format: {@code Sun Nov  6 08:49:37 1994} (day padded with a space). */
    private static final DateTimeFormatter ASCTIME = new DateTimeFormatterBuilder()
            .appendPattern("EEE MMM ")
            .padNext(2, ' ')
            .appendValue(ChronoField.DAY_OF_MONTH)
            .appendPattern(" HH:mm:ss uuuu")
            .toFormatter(Locale.ENGLISH)
            .withResolverStyle(ResolverStyle.STRICT)
            .withZone(ZoneOffset.UTC);

    /** What a response status means for the delivery. */
    public enum Verdict {
        /** 2xx: delivered. */
        DELIVERED,
        /** 4xx other than 408 and 429: the receiver refuses this delivery for good. */
        REJECTED,
        /** Anything else (5xx, 408, 429, 1xx/3xx that end an exchange): try again later. */
        RETRY
    }

    public RetryPolicy {
        if (initialBackoff.isNegative()
                || initialBackoff.isZero()
                || maxBackoff.compareTo(initialBackoff) < 0
                || deadline.isNegative()
                || deadline.isZero()) {
            throw new IllegalArgumentException("backoffs and deadline must be positive, max >= initial");
        }
    }

    public static Verdict verdict(int status) {
        if (status >= 200 && status < 300) {
            return Verdict.DELIVERED;
        }
        if (status >= 400 && status < 500 && status != 408 && status != 429) {
            return Verdict.REJECTED;
        }
        return Verdict.RETRY;
    }

    /**
     * The delay before the next attempt after {@code failedAttempts} (>= 1) failed ones: {@code initial * 2^(n-1)},
     * capped at the maximum, of which the upper half is random ("equal jitter"), so delays still grow while
     * receivers that failed together are not retried in lock step.
     *
     * @param random a uniform number in [0, 1)
     */
    public long backoffMillis(int failedAttempts, double random) {
        long max = maxBackoff.toMillis();
        long delay = initialBackoff.toMillis();
        for (int i = 1; i < failedAttempts && delay < max; i++) {
            delay *= 2;
        }
        delay = Math.min(delay, max);
        long half = delay / 2;
        return delay - half + (long) (random * (half + 1));
    }

    /**
     * The delay before the next attempt when the failed answer may have carried a {@code Retry-After}: the own
     * {@link #backoffMillis backoff} or, when the receiver asked for longer, what it asked for; never more than the
     * maximum backoff.
     *
     * @param random a uniform number in [0, 1)
     * @param retryAfterMillis the parsed {@code Retry-After} ({@link #parseRetryAfterMillis}), negative when absent
     */
    public long delayMillis(int failedAttempts, double random, long retryAfterMillis) {
        long backoff = backoffMillis(failedAttempts, random);
        if (retryAfterMillis < 0) {
            return backoff;
        }
        return Math.min(Math.max(backoff, retryAfterMillis), maxBackoff.toMillis());
    }

    /**
     * Reads a {@code Retry-After} value (RFC 9110 section 10.2.3) as a delay from {@code nowMillis}:
     * delay-seconds, or an HTTP-date (IMF-fixdate, or the obsolete RFC 850 and asctime forms) of which a past one
     * means 0. Absurdly many seconds saturate rather than overflow.
     *
     * @return the delay in milliseconds, or -1 when {@code value} is absent, negative or malformed
     */
    public static long parseRetryAfterMillis(String value, long nowMillis) {
        if (value == null) {
            return -1;
        }
        String v = value.strip();
        if (v.isEmpty()) {
            return -1;
        }
        if (v.chars().allMatch(c -> c >= '0' && c <= '9')) {
            if (v.length() > 15) {
                return Long.MAX_VALUE;
            }
            return Long.parseLong(v) * 1000;
        }
        for (DateTimeFormatter format : List.of(IMF_FIXDATE, rfc850(nowMillis), ASCTIME)) {
            try {
                long at = ZonedDateTime.parse(v, format).toInstant().toEpochMilli();
                return Math.max(0, at - nowMillis);
            } catch (DateTimeException e) {
                // try the next format
            }
        }
        return -1;
    }

    /**
     * The obsolete RFC 850 format, {@code Sunday, 06-Nov-94 08:49:37 GMT}: a two-digit year that would be more than
     * 50 years after {@code nowMillis} is taken as the latest past year with those digits.
     */
    private static DateTimeFormatter rfc850(long nowMillis) {
        int thisYear = Instant.ofEpochMilli(nowMillis).atZone(ZoneOffset.UTC).getYear();
        return new DateTimeFormatterBuilder()
                .appendPattern("EEEE, dd-MMM-")
                .appendValueReduced(ChronoField.YEAR, 2, 2, thisYear - 49)
                .appendPattern(" HH:mm:ss 'GMT'")
                .toFormatter(Locale.ENGLISH)
                .withResolverStyle(ResolverStyle.STRICT)
                .withZone(ZoneOffset.UTC);
    }
}
