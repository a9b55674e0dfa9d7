package dev.biometry.api;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * An input record that could not be parsed or validated, as written to the dead-letter topic: Oz error code and
 * message, details (the offending field), where it came from, and the payload (base64 when not valid UTF-8).
 *
 * @param payloadTruncated true when {@code payload} holds only the start of the record (see {@link #withPayloadCapped})
 */
public record DeadLetter(
        int errorCode,
        String errorMessage,
        String details,
        String sourceTopic,
        int sourcePartition,
        long sourceOffset,
        String payload,
        boolean payloadBase64,
        boolean payloadTruncated) {

    /** A dead letter whose payload is complete. */
    public DeadLetter(
            int errorCode,
            String errorMessage,
            String details,
            String sourceTopic,
            int sourcePartition,
            long sourceOffset,
            String payload,
            boolean payloadBase64) {
        this(
                errorCode,
                errorMessage,
                details,
                sourceTopic,
                sourcePartition,
                sourceOffset,
                payload,
                payloadBase64,
                false);
    }

    /**
     * This dead letter with at most {@code maxBytes} of payload: UTF-8 text is cut at a character boundary to at
     * most {@code maxBytes} bytes; a base64 payload keeps the base64 of its first bytes, at most {@code maxBytes}
     * chars. A cut payload is flagged {@link #payloadTruncated}.
     */
    public DeadLetter withPayloadCapped(int maxBytes) {
        if (payload == null) {
            return this;
        }
        String capped;
        if (payloadBase64) {
            if (payload.length() <= maxBytes) {
                return this;
            }
            byte[] raw = Base64.getDecoder().decode(payload);
            int keep = Math.min(raw.length, maxBytes / 4 * 3);
            capped = Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(raw, keep));
        } else {
            if (payload.length() <= maxBytes / 3 || utf8Length(payload) <= maxBytes) {
                return this;
            }
            capped = utf8Prefix(payload, maxBytes);
        }
        return new DeadLetter(
                errorCode,
                errorMessage,
                details,
                sourceTopic,
                sourcePartition,
                sourceOffset,
                capped,
                payloadBase64,
                true);
    }

    /** UTF-8 length of {@code text} (a lone surrogate counts as the one byte it is encoded as, {@code ?}). */
    public static long utf8Length(String text) {
        long n = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x80) {
                n++;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c)
                    && i + 1 < text.length()
                    && Character.isLowSurrogate(text.charAt(i + 1))) {
                n += 4;
                i++;
            } else if (Character.isSurrogate(c)) {
                n++;
            } else {
                n += 3;
            }
        }
        return n;
    }

    /** The longest prefix of {@code text} whose UTF-8 encoding fits in {@code maxBytes}, never splitting a character. */
    static String utf8Prefix(String text, int maxBytes) {
        CharsetEncoder encoder = StandardCharsets.UTF_8
                .newEncoder()
                .onMalformedInput(CodingErrorAction.REPLACE)
                .onUnmappableCharacter(CodingErrorAction.REPLACE);
        CharBuffer in = CharBuffer.wrap(text);
        encoder.encode(in, ByteBuffer.allocate(maxBytes), true);
        return text.substring(0, in.position());
    }
}
