package dev.biometry.webhook;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The signature of a webhook delivery: {@code X-Biometry-Signature: sha256=<hex>}, the lower-case hex HMAC-SHA256,
 * keyed with the shared secret (its UTF-8 bytes), of {@code <timestamp>.<body>}, where {@code <timestamp>} is the
 * decimal {@code X-Biometry-Timestamp} (epoch seconds) and {@code <body>} the exact request body bytes. Signing
 * the timestamp lets receivers refuse old (replayed) deliveries.
 */
public final class WebhookSignature {

    public static final String TIMESTAMP_HEADER = "X-Biometry-Timestamp";
    public static final String SIGNATURE_HEADER = "X-Biometry-Signature";

    private WebhookSignature() {}

    /** {@code sha256=<hex>} of {@code <timestampSeconds>.<body>} under {@code secret}. */
    public static String sign(byte[] secret, long timestampSeconds, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            mac.update((timestampSeconds + ".").getBytes(StandardCharsets.US_ASCII));
            return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }
}
