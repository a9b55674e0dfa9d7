package dev.biometry.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.biometry.testing.HangingResolver;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link HttpPoster} (webhook delivery) shares the guarded client: its host name lookups end at its timeout, and so
 * does writing to a receiver that stops reading.
 */
class HttpPosterTest {

    @Test
    void aHostLookupThatHangsCannotOutliveTheWebhookTimeout() throws Exception {
        try (HangingResolver resolver = new HangingResolver();
                HttpPoster poster = HttpPoster.builder()
                        .allowHosts(List.of("hooks.test"))
                        .allowPlainHttp(true)
                        .allowPrivateAddresses(true)
                        .timeout(Duration.ofSeconds(1))
                        .resolver(resolver)
                        .build()) {
            long start = System.nanoTime();
            SocketTimeoutException e = catchThrowableOfType(
                    () -> poster.post("http://hooks.test:9/hook", List.of(), "{}".getBytes(StandardCharsets.UTF_8)),
                    SocketTimeoutException.class);
            long elapsedMillis = (System.nanoTime() - start) / 1_000_000;

            assertThat(resolver.lookups()).isEqualTo(1);
            assertThat(e).as("a timeout, not a hang").isNotNull();
            assertThat(e).hasMessageContaining("timed out after 1000 ms posting to http://hooks.test:9/hook");
            assertThat(e.getCause()).hasMessageContaining("resolving host hooks.test");
            assertThat(elapsedMillis)
                    .as("well under the 30 s the lookup would take")
                    .isBetween(900L, 10_000L);
        }
    }

    @Test
    void aReceiverThatStopsReadingCannotHoldThePostPastTheTimeout() throws Exception {
        // Accepted by the kernel, never read: the body fills the socket buffers and the write blocks.
        try (ServerSocket deaf = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
                HttpPoster poster = HttpPoster.builder()
                        .allowHosts(List.of("127.0.0.1"))
                        .allowPlainHttp(true)
                        .allowPrivateAddresses(true)
                        .timeout(Duration.ofSeconds(1))
                        .build()) {
            byte[] body = new byte[64 << 20];
            long start = System.nanoTime();
            SocketTimeoutException e = catchThrowableOfType(
                    () -> poster.post("http://127.0.0.1:" + deaf.getLocalPort() + "/hook", List.of(), body),
                    SocketTimeoutException.class);
            long elapsedMillis = (System.nanoTime() - start) / 1_000_000;

            assertThat(e)
                    .as("a timeout, not a hang")
                    .isNotNull()
                    .hasMessageContaining("timed out after 1000 ms posting to http://127.0.0.1:" + deaf.getLocalPort());
            assertThat(elapsedMillis).isBetween(900L, 5_000L);
        }
    }
}
