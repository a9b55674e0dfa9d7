package dev.biometry.webhook;

import dev.biometry.net.HttpPoster;
import dev.biometry.net.TargetPolicy;
import dev.biometry.net.TargetRefusedException;
import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Makes one webhook attempt: a {@code POST} of the analysis JSON with {@code Content-Type: application/json},
 * {@code Idempotency-Key: <analyse_id>:<state>} and, when a secret is configured, {@code X-Biometry-Timestamp} and
 * {@code X-Biometry-Signature} (see {@link WebhookSignature}). Each attempt is signed afresh with its own timestamp.
 * Blocking: call it off the operator thread.
 */
public final class WebhookSender implements Serializable, AutoCloseable {

    private static final long serialVersionUID = 1L;

    public static final String IDEMPOTENCY_KEY_HEADER = "Idempotency-Key";

    /** How one attempt ended. */
    public enum Outcome {
        /** A 2xx answer. */
        DELIVERED,
        /** A 4xx answer other than 408 and 429: do not try again. */
        REJECTED,
        /** The endpoint may not be contacted (scheme, allow-list, address): nothing was sent. */
        REFUSED,
        /**
         * A 5xx, 408, 429 or other status, a network error or a timeout: try again later, not before a
         * {@code Retry-After} of the answer.
         */
        RETRY
    }

    /**
     * The result of one attempt.
     *
     * @param status the HTTP status, or 0 when there was none
     * @param message what happened, naming the endpoint without query string
     * @param retryAfterMillis the delay a valid {@code Retry-After} of a {@link Outcome#RETRY} answer asks for (see
     *     {@link RetryPolicy#parseRetryAfterMillis}); -1 when there is none, and for the other outcomes
     */
    public record Result(Outcome outcome, int status, String message, long retryAfterMillis) {

        /** A result without a {@code Retry-After}. */
        public Result(Outcome outcome, int status, String message) {
            this(outcome, status, message, -1);
        }
    }

    private final HttpPoster poster;
    private final byte[] secret;

    /** @param secret the HMAC key; empty sends deliveries unsigned */
    public WebhookSender(HttpPoster poster, String secret) {
        this.poster = poster;
        this.secret = secret == null ? new byte[0] : secret.getBytes(StandardCharsets.UTF_8);
    }

    public boolean signs() {
        return secret.length > 0;
    }

    /** Checks the endpoint without the network (scheme, credentials, allow-list, IP-literal addresses). */
    public void checkTarget(String endpoint) throws TargetRefusedException {
        poster.checkTarget(endpoint);
    }

    /** Posts {@code body}; never throws. */
    public Result send(String endpoint, String analyseId, String state, byte[] body, long timestampSeconds) {
        String where = TargetPolicy.redact(endpoint);
        List<Map.Entry<String, String>> headers = new ArrayList<>();
        headers.add(Map.entry("User-Agent", "biometry-webhook"));
        headers.add(Map.entry("Content-Type", "application/json"));
        headers.add(Map.entry(IDEMPOTENCY_KEY_HEADER, idempotencyKey(analyseId, state)));
        if (signs()) {
            headers.add(Map.entry(WebhookSignature.TIMESTAMP_HEADER, Long.toString(timestampSeconds)));
            headers.add(Map.entry(
                    WebhookSignature.SIGNATURE_HEADER, WebhookSignature.sign(secret, timestampSeconds, body)));
        }
        try {
            HttpPoster.Response response = poster.post(endpoint, headers, body);
            int status = response.status();
            return switch (RetryPolicy.verdict(status)) {
                case DELIVERED -> new Result(Outcome.DELIVERED, status, "HTTP " + status + " from " + where);
                case REJECTED -> new Result(Outcome.REJECTED, status, "HTTP " + status + " from " + where);
                case RETRY ->
                    new Result(
                            Outcome.RETRY,
                            status,
                            "HTTP " + status + " from " + where,
                            RetryPolicy.parseRetryAfterMillis(response.retryAfter(), System.currentTimeMillis()));
            };
        } catch (TargetRefusedException e) {
            return new Result(Outcome.REFUSED, 0, e.getMessage());
        } catch (IOException e) {
            return new Result(Outcome.RETRY, 0, e.getMessage());
        } catch (RuntimeException e) {
            return new Result(Outcome.RETRY, 0, "failed posting to " + where + ": " + e);
        }
    }

    /**
     * {@code <analyse_id>:<state>}, with {@code %} and every byte outside visible ASCII percent-encoded
     * (UTF-8), so that any analysis id fits in a header.
     */
    public static String idempotencyKey(String analyseId, String state) {
        StringBuilder key = new StringBuilder();
        for (byte b : (analyseId + ":" + state).getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xFF;
            if (c > 0x20 && c < 0x7F && c != '%') {
                key.append((char) c);
            } else {
                key.append('%')
                        .append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xF, 16)));
            }
        }
        return key.toString();
    }

    @Override
    public void close() {
        poster.close();
    }
}
