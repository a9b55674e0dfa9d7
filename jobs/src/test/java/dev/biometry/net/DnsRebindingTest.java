package dev.biometry.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * DNS rebinding against real sockets: the resolver answers a public address on its first lookup and a private one on
 * every later lookup. Nothing leaves the machine: 127.0.0.2 stands in for the public address (this test's address
 * rule counts it, and only it, as public) and serves the requests; 127.0.0.3 is the private address, where a
 * listening trap on the same port catches every connection that reaches it (the kernel queues each one whether or not
 * it is accepted, so an empty queue means no connection was made).
 */
class DnsRebindingTest {

    private static final InetAddress PUBLIC_STAND_IN = literal("127.0.0.2");
    private static final InetAddress PRIVATE = literal("127.0.0.3");
    private static final byte[] BODY = "served by the checked address".getBytes(StandardCharsets.US_ASCII);

    private final AtomicInteger lookups = new AtomicInteger();
    private final AtomicInteger served = new AtomicInteger();
    private ExecutorService executor;
    private HttpServer server;
    private ServerSocketChannel trap;
    private int port;

    @BeforeEach
    void start() throws IOException {
        executor = Executors.newCachedThreadPool();
        server = HttpServer.create(new InetSocketAddress(PUBLIC_STAND_IN, 0), 0);
        server.setExecutor(executor);
        server.createContext("/", exchange -> {
            served.incrementAndGet();
            exchange.getRequestBody().readAllBytes();
            exchange.sendResponseHeaders(200, BODY.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(BODY);
            }
        });
        server.start();
        port = server.getAddress().getPort();
        trap = ServerSocketChannel.open();
        trap.bind(new InetSocketAddress(PRIVATE, port), 50);
        trap.configureBlocking(false);
    }

    @AfterEach
    void stop() throws IOException {
        server.stop(0);
        executor.shutdownNow();
        trap.close();
    }

    @Test
    void aRequestConnectsToTheAddressItCheckedAndTheNextLookupsPrivateAnswerIsRefused() throws Exception {
        GuardedHttpClient client = GuardedHttpClient.builder("media URL")
                .allowHosts(List.of("rebind.test"))
                .resolver(rebindingResolver())
                .publicAddresses(DnsRebindingTest::isPublicHere)
                .build();
        try (client) {
            URI uri = URI.create("http://rebind.test:" + port + "/image");
            try (GuardedHttpClient.Response response = client.send("GET", uri, List.of(), null, deadline())) {
                assertThat(response.status()).isEqualTo(200);
                assertThat(response.body(1_000)).isEqualTo(BODY);
            }
            assertThat(lookups)
                    .as("one lookup, checked and connected to: no second lookup")
                    .hasValue(1);
            assertThat(served).hasValue(1);
            assertThat(trap.accept()).as("no connection to the private address").isNull();

            // The next request to the host (a redirect hop, a retry) looks it up again and gets the private answer.
            TargetRefusedException refused = catchThrowableOfType(
                    () -> client.send("GET", uri, List.of(), null, deadline()), TargetRefusedException.class);
            assertThat(refused)
                    .isNotNull()
                    .hasMessageContaining("host rebind.test resolves to a private")
                    .hasMessageContaining("http://rebind.test:" + port + "/image");
            assertThat(lookups).hasValue(2);
            assertThat(served).hasValue(1);
            assertThat(trap.accept()).as("refused before connecting").isNull();
        }
    }

    @Test
    void webhookPostsAreGuardedTheSameWay() throws Exception {
        HttpPoster poster = HttpPoster.builder()
                .allowHosts(List.of("rebind.test"))
                .allowPlainHttp(true)
                .resolver(rebindingResolver())
                .publicAddresses(DnsRebindingTest::isPublicHere)
                .build();
        try (poster) {
            String url = "http://rebind.test:" + port + "/hook";
            byte[] json = "{}".getBytes(StandardCharsets.UTF_8);
            assertThat(poster.post(url, List.of(), json).status()).isEqualTo(200);
            assertThat(catchThrowableOfType(() -> poster.post(url, List.of(), json), TargetRefusedException.class))
                    .isNotNull()
                    .hasMessageContaining("non-public address");
        }
        assertThat(lookups).hasValue(2);
        assertThat(served).hasValue(1);
        assertThat(trap.accept()).isNull();
    }

    // --- helpers ---

    /** The public stand-in on the first lookup, the private address on every later one. */
    private HostResolver rebindingResolver() {
        return host -> {
            assertThat(host).isEqualTo("rebind.test");
            return new InetAddress[] {lookups.getAndIncrement() == 0 ? PUBLIC_STAND_IN : PRIVATE};
        };
    }

    private static boolean isPublicHere(InetAddress address) {
        return address.equals(PUBLIC_STAND_IN) || NetworkAddresses.isPublic(address);
    }

    private static long deadline() {
        return System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    }

    private static InetAddress literal(String ip) {
        try {
            return InetAddress.getByName(ip);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
