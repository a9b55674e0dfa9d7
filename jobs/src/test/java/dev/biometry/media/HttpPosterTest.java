package dev.biometry.media;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.net.InetAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** {@link HttpPoster} (webhook delivery) shares the guarded connector: its host name lookups end at its timeout. */
class HttpPosterTest {

    @Test
    void aHostLookupThatHangsCannotOutliveTheWebhookTimeout() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger lookups = new AtomicInteger();
        try (HttpPoster poster = HttpPoster.builder().allowHosts(List.of("hooks.test")).allowPlainHttp(true)
                .allowPrivateAddresses(true).timeout(Duration.ofSeconds(1))
                .resolver(host -> {
                    lookups.incrementAndGet();
                    try {
                        release.await(30, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return new InetAddress[] {InetAddress.getLoopbackAddress()};
                })
                .build()) {
            long start = System.nanoTime();
            SocketTimeoutException e = catchThrowableOfType(() -> poster.post("http://hooks.test:9/hook", List.of(),
                    "{}".getBytes(StandardCharsets.UTF_8)), SocketTimeoutException.class);
            long elapsedMillis = (System.nanoTime() - start) / 1_000_000;

            assertThat(lookups).hasValue(1);
            assertThat(e).as("a timeout, not a hang").isNotNull();
            assertThat(e).hasMessageContaining("timed out after 1000 ms posting to http://hooks.test:9/hook");
            assertThat(e.getCause()).hasMessageContaining("resolving host hooks.test");
            assertThat(elapsedMillis).as("well under the 30 s the lookup would take").isBetween(900L, 10_000L);
        } finally {
            release.countDown();
        }
    }
}
