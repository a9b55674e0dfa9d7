package dev.biometry.webhook;

import java.io.Serializable;
import java.time.Duration;

/**
 * When webhook attempts are repeated: which statuses end a delivery, and the exponential backoff with jitter
 * between attempts. Attempts stop at the deadline, counted from when the result was ready for delivery.
 *
 * @param initialBackoff the delay after the first failed attempt (before jitter)
 * @param maxBackoff the largest delay between two attempts (before jitter)
 * @param deadline how long a delivery is retried
 */
public record RetryPolicy(Duration initialBackoff, Duration maxBackoff, Duration deadline) implements Serializable {

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
        if (initialBackoff.isNegative() || initialBackoff.isZero() || maxBackoff.compareTo(initialBackoff) < 0
                || deadline.isNegative() || deadline.isZero()) {
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
}
