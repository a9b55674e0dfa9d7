package dev.biometry.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.biometry.testing.HangingResolver;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link HttpPoster} (webhook delivery) shares the guarded client: its host name lookups end at its timeout. */
class HttpPosterTest {

    @Test
    void aHostLookupThatHangsCannotOutliveTheWebhookTimeout() throws Exception {
        try (HangingResolver resolver = new HangingResolver();
                HttpPoster poster = HttpPoster.builder().allowHosts(List.of("hooks.test")).allowPlainHttp(true)
                        .allowPrivateAddresses(true).timeout(Duration.ofSeconds(1)).resolver(resolver).build()) {
            long start = System.nanoTime();
            SocketTimeoutException e = catchThrowableOfType(() -> poster.post("http://hooks.test:9/hook", List.of(),
                    "{}".getBytes(StandardCharsets.UTF_8)), SocketTimeoutException.class);
            long elapsedMillis = (System.nanoTime() - start) / 1_000_000;

            assertThat(resolver.lookups()).isEqualTo(1);
            assertThat(e).as("a timeout, not a hang").isNotNull();
            assertThat(e).hasMessageContaining("timed out after 1000 ms posting to http://hooks.test:9/hook");
            assertThat(e.getCause()).hasMessageContaining("resolving host hooks.test");
            assertThat(elapsedMillis).as("well under the 30 s the lookup would take").isBetween(900L, 10_000L);
        }
    }
}
