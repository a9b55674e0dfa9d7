package dev.biometry.cluster;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * A loopback webhook receiver as the README tells users to write one: it checks the signature and deduplicates on
 * the {@code Idempotency-Key}. The first attempt of every {@code failEvery}-th key is answered 503 so that
 * retries are exercised too.
 */
final class WebhookReceiver implements AutoCloseable {

    private final HttpServer server;
    private final byte[] secret;
    private final int failEvery;
    /** Accepted (2xx) attempts per idempotency key; more than one = a redelivery the key deduplicates. */
    final Map<String, AtomicInteger> accepted = new ConcurrentHashMap<>();

    final AtomicInteger attempts = new AtomicInteger();
    final AtomicInteger refusedOnPurpose = new AtomicInteger();
    final AtomicInteger badSignatures = new AtomicInteger();
    private final Map<String, Boolean> failedOnce = new ConcurrentHashMap<>();

    WebhookReceiver(byte[] secret, int failEvery) throws IOException {
        this.secret = secret.clone();
        this.failEvery = failEvery;
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
        server.setExecutor(Executors.newFixedThreadPool(4));
        server.createContext("/hook", exchange -> {
            byte[] body;
            try (InputStream in = exchange.getRequestBody()) {
                body = in.readAllBytes();
            }
            attempts.incrementAndGet();
            String key = exchange.getRequestHeaders().getFirst("Idempotency-Key");
            String timestamp = exchange.getRequestHeaders().getFirst("X-Biometry-Timestamp");
            String signature = exchange.getRequestHeaders().getFirst("X-Biometry-Signature");
            int status;
            if (key == null || !validSignature(timestamp, signature, body)) {
                badSignatures.incrementAndGet();
                status = 401;
            } else if (Math.floorMod(key.hashCode(), failEvery) == 0 && failedOnce.putIfAbsent(key, true) == null) {
                refusedOnPurpose.incrementAndGet();
                status = 503;
            } else {
                accepted.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
                status = 200;
            }
            exchange.sendResponseHeaders(status, -1);
            exchange.close();
        });
        server.start();
    }

    String endpoint(String path) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/hook/" + path;
    }

    private boolean validSignature(String timestamp, String signature, byte[] body) {
        if (timestamp == null || signature == null) {
            return false;
        }
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            mac.update((timestamp + ".").getBytes(StandardCharsets.US_ASCII));
            String expected = "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
            return MessageDigest.isEqual(
                    expected.getBytes(StandardCharsets.US_ASCII), signature.getBytes(StandardCharsets.US_ASCII));
        } catch (java.security.GeneralSecurityException e) {
            return false;
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
