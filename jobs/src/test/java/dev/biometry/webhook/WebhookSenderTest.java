package dev.biometry.webhook;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.biometry.net.HttpPoster;
import dev.biometry.net.TargetRefusedException;
import dev.biometry.testing.WebhookReceiver;
import dev.biometry.testing.WebhookReceiver.Request;
import dev.biometry.webhook.WebhookSender.Outcome;
import dev.biometry.webhook.WebhookSender.Result;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * One webhook attempt against a real HTTP receiver on 127.0.0.1: headers, signature, exact body, what each answer
 * means, and which endpoints are refused before anything is sent.
 */
class WebhookSenderTest {

    private static final String SECRET = "webhook-test-secret";
    private static final String QUERY_SECRET = "t0ken";
    private static final byte[] BODY =
            "{\"analyse_id\":\"a-1\",\"state\":\"FINISHED\",\"meta_data\":{\"name\":\"Zoë\"}}".getBytes(UTF_8);

    private WebhookReceiver receiver;

    @BeforeEach
    void startReceiver() throws Exception {
        // "/status/NNN" answers NNN, everything else 200.
        receiver = new WebhookReceiver((n, r) -> r.pathAndQuery().startsWith("/status/")
                ? Integer.parseInt(r.pathAndQuery().substring(8, 11))
                : 200);
    }

    @AfterEach
    void stopReceiver() {
        receiver.close();
    }

    @Test
    void postsTheExactBodyWithContentTypeIdempotencyKeyAndSignature() throws Exception {
        long timestamp = Instant.now().getEpochSecond();
        try (WebhookSender sender = new WebhookSender(loopbackPoster().build(), SECRET)) {
            Result result = sender.send(url("/hooks/biometry?tenant=7"), "a-1", "FINISHED", BODY, timestamp);

            assertThat(result.outcome()).isEqualTo(Outcome.DELIVERED);
            assertThat(result.status()).isEqualTo(200);
        }
        Request request = receiver.requests().get(0);
        assertThat(request.method()).isEqualTo("POST");
        assertThat(request.pathAndQuery()).isEqualTo("/hooks/biometry?tenant=7");
        assertThat(request.body()).isEqualTo(BODY);
        assertThat(request.header("Content-Type")).isEqualTo("application/json");
        assertThat(request.header("Content-Length")).isEqualTo(String.valueOf(BODY.length));
        assertThat(request.header("Idempotency-Key")).isEqualTo("a-1:FINISHED");
        assertThat(request.header("X-Biometry-Timestamp")).isEqualTo(String.valueOf(timestamp));
        assertThat(request.header("X-Biometry-Signature"))
                .isEqualTo(WebhookSignature.sign(SECRET.getBytes(UTF_8), timestamp, BODY))
                .matches("sha256=[0-9a-f]{64}");
    }

    @Test
    void withoutASecretDeliveriesAreUnsigned() throws Exception {
        try (WebhookSender sender = new WebhookSender(loopbackPoster().build(), "")) {
            assertThat(sender.signs()).isFalse();
            assertThat(sender.send(url("/unsigned"), "a-2", "FAILED", BODY, 1L).outcome())
                    .isEqualTo(Outcome.DELIVERED);
        }
        Request request = receiver.requests().get(0);
        assertThat(request.header("Idempotency-Key")).isEqualTo("a-2:FAILED");
        assertThat(request.header("X-Biometry-Timestamp")).isNull();
        assertThat(request.header("X-Biometry-Signature")).isNull();
    }

    @Test
    void eachAnswerHasItsOutcome() throws Exception {
        try (WebhookSender sender = new WebhookSender(loopbackPoster().build(), SECRET)) {
            for (int status : List.of(200, 202, 204)) {
                assertThat(send(sender, status).outcome()).as("HTTP " + status).isEqualTo(Outcome.DELIVERED);
            }
            for (int status : List.of(400, 404, 410, 422)) {
                assertThat(send(sender, status).outcome()).as("HTTP " + status).isEqualTo(Outcome.REJECTED);
            }
            for (int status : List.of(408, 429, 500, 503, 302)) {
                Result result = send(sender, status);
                assertThat(result.outcome()).as("HTTP " + status).isEqualTo(Outcome.RETRY);
                assertThat(result.status()).isEqualTo(status);
                assertThat(result.message()).contains("HTTP " + status).doesNotContain(QUERY_SECRET);
            }
        }
    }

    @Test
    void theRetryAfterOfARetryableAnswerTravelsInTheResult() throws Exception {
        String inAMinute = DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.ENGLISH)
                .format(ZonedDateTime.now(ZoneOffset.UTC).plusSeconds(60));
        // "/status/NNN/<name>" answers NNN with the Retry-After named
        Map<String, String> retryAfters = Map.of("seconds", "7", "date", inAMinute, "garbage", "soon");
        receiver.withResponseHeaders((n, r) -> {
            String value =
                    retryAfters.get(r.pathAndQuery().substring(r.pathAndQuery().lastIndexOf('/') + 1));
            return value == null ? Map.of() : Map.of("Retry-After", value);
        });
        try (WebhookSender sender = new WebhookSender(loopbackPoster().build(), SECRET)) {
            Result seconds = sender.send(url("/status/503/seconds"), "a", "FINISHED", BODY, 1L);
            assertThat(seconds.outcome()).isEqualTo(Outcome.RETRY);
            assertThat(seconds.status()).isEqualTo(503);
            assertThat(seconds.retryAfterMillis()).isEqualTo(7_000);

            Result date = sender.send(url("/status/429/date"), "a", "FINISHED", BODY, 1L);
            assertThat(date.outcome()).isEqualTo(Outcome.RETRY);
            assertThat(date.retryAfterMillis())
                    .as("an HTTP-date a minute ahead")
                    .isBetween(55_000L, 60_000L);

            Result without = sender.send(url("/status/503/none"), "a", "FINISHED", BODY, 1L);
            assertThat(without.outcome()).isEqualTo(Outcome.RETRY);
            assertThat(without.retryAfterMillis()).isEqualTo(-1);

            assertThat(sender.send(url("/status/503/garbage"), "a", "FINISHED", BODY, 1L)
                            .retryAfterMillis())
                    .isEqualTo(-1);
            Result delivered = sender.send(url("/status/200/seconds"), "a", "FINISHED", BODY, 1L);
            assertThat(delivered.outcome()).isEqualTo(Outcome.DELIVERED);
            assertThat(delivered.retryAfterMillis()).as("only a retry waits").isEqualTo(-1);
        }
        assertThat(receiver.requests()).hasSize(5);
    }

    @Test
    void networkErrorsAndTimeoutsAreRetried() throws Exception {
        int closedPort;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            closedPort = probe.getLocalPort();
        }
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
                WebhookSender sender = new WebhookSender(
                        loopbackPoster().timeout(Duration.ofSeconds(1)).build(), SECRET)) {
            Result refused = sender.send(
                    "http://127.0.0.1:" + closedPort + "/x?token=" + QUERY_SECRET, "a", "FINISHED", BODY, 1L);
            assertThat(refused.outcome()).isEqualTo(Outcome.RETRY);
            assertThat(refused.message()).contains("cannot connect").doesNotContain(QUERY_SECRET);

            long start = System.nanoTime();
            Result timedOut = sender.send(
                    "http://127.0.0.1:" + silent.getLocalPort() + "/x?token=" + QUERY_SECRET,
                    "a",
                    "FINISHED",
                    BODY,
                    1L);
            long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
            assertThat(timedOut.outcome()).isEqualTo(Outcome.RETRY);
            assertThat(timedOut.message()).contains("timed out after 1000 ms").doesNotContain(QUERY_SECRET);
            assertThat(elapsedMillis).isBetween(900L, 2_500L);
        }
    }

    // --- target validation ---

    @Test
    void onlyHttpsUnlessPlainHttpIsAllowed() throws Exception {
        HttpPoster httpsOnly = HttpPoster.builder()
                .allowHosts(List.of("127.0.0.1", "hooks.example.com"))
                .allowPrivateAddresses(true)
                .build();
        try (WebhookSender sender = new WebhookSender(httpsOnly, SECRET)) {
            assertThat(refusal(sender, url("/x"))).hasMessageContaining("scheme 'http' is not allowed (only https)");
            assertThat(refusal(sender, "ftp://hooks.example.com/x")).hasMessageContaining("scheme 'ftp'");
            sender.checkTarget("https://hooks.example.com/x");

            Result result = sender.send(url("/never"), "a", "FINISHED", BODY, 1L);
            assertThat(result.outcome()).isEqualTo(Outcome.REFUSED);
        }
        assertThat(receiver.requests()).isEmpty();
    }

    @Test
    void onlyAllowListedHosts() throws Exception {
        try (WebhookSender none = new WebhookSender(HttpPoster.builder().build(), SECRET);
                WebhookSender some = new WebhookSender(
                        HttpPoster.builder()
                                .allowHosts(List.of("hooks.example.com", "*.partner.example"))
                                .build(),
                        SECRET)) {
            assertThat(refusal(none, "https://hooks.example.com/x")).hasMessageContaining("not allow-listed");
            some.checkTarget("https://hooks.example.com/x");
            some.checkTarget("https://eu.partner.example/x");
            assertThat(refusal(some, "https://partner.example/x")).hasMessageContaining("not allow-listed");
            assertThat(refusal(some, "https://hooks.example.com.evil.test/x")).hasMessageContaining("not allow-listed");
            assertThat(refusal(some, "https://user:" + QUERY_SECRET + "@hooks.example.com/x"))
                    .hasMessageContaining("credentials")
                    .hasMessageNotContaining(QUERY_SECRET);
            assertThat(refusal(some, "https://exa mple/?token=" + QUERY_SECRET)).hasMessageNotContaining(QUERY_SECRET);
        }
    }

    @Test
    void privateAddressesAreRefusedBeforeAnythingIsSent() throws Exception {
        HttpPoster publicOnly = HttpPoster.builder()
                .allowHosts(List.of("127.0.0.1", "localhost", "10.1.2.3"))
                .allowPlainHttp(true)
                .build();
        try (WebhookSender sender = new WebhookSender(publicOnly, SECRET)) {
            // IP literals: refused without the network
            assertThat(refusal(sender, url("/x"))).hasMessageContaining("non-public address");
            assertThat(refusal(sender, "http://10.1.2.3/x")).hasMessageContaining("non-public address");
            // a name: refused after DNS, when sending
            String byName = receiver.url("localhost", "/by-name");
            sender.checkTarget(byName);
            Result result = sender.send(byName, "a", "FINISHED", BODY, 1L);
            assertThat(result.outcome()).isEqualTo(Outcome.REFUSED);
            assertThat(result.message()).contains("non-public address");
        }
        assertThat(receiver.requests()).isEmpty();

        HttpPoster privateAllowed =
                loopbackPoster().allowHosts(List.of("localhost")).build();
        try (WebhookSender allowed = new WebhookSender(privateAllowed, SECRET)) {
            assertThat(allowed.send(receiver.url("localhost", "/by-name"), "a", "FINISHED", BODY, 1L)
                            .outcome())
                    .isEqualTo(Outcome.DELIVERED);
        }
        assertThat(receiver.requests("/by-name")).hasSize(1);
    }

    @Test
    void idempotencyKeysFitInAHeaderWhateverTheId() {
        assertThat(WebhookSender.idempotencyKey("3fa85f64-5717-4562-b3fc-2c963f66afa6", "FINISHED"))
                .isEqualTo("3fa85f64-5717-4562-b3fc-2c963f66afa6:FINISHED");
        assertThat(WebhookSender.idempotencyKey("a b%é", "FAILED")).isEqualTo("a%20b%25%C3%A9:FAILED");
    }

    // --- helpers ---

    private HttpPoster.Builder loopbackPoster() {
        return HttpPoster.builder()
                .allowHosts(List.of("127.0.0.1"))
                .allowPlainHttp(true)
                .allowPrivateAddresses(true)
                .connectTimeout(Duration.ofSeconds(2))
                .timeout(Duration.ofSeconds(5));
    }

    private String url(String path) {
        return receiver.url("127.0.0.1", path);
    }

    private Result send(WebhookSender sender, int status) {
        return sender.send(url("/status/" + status + "?token=" + QUERY_SECRET), "a", "FINISHED", BODY, 1L);
    }

    private static TargetRefusedException refusal(WebhookSender sender, String endpoint) {
        TargetRefusedException e =
                catchThrowableOfType(() -> sender.checkTarget(endpoint), TargetRefusedException.class);
        assertThat(e).as("%s should be refused", endpoint).isNotNull();
        return e;
    }
}
