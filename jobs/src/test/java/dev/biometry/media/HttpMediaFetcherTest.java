package dev.biometry.media;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsExchange;
import com.sun.net.httpserver.HttpsServer;
import dev.biometry.testing.HangingResolver;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.zip.GZIPOutputStream;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every server here binds 127.0.0.1 only; nothing connects anywhere else. */
class HttpMediaFetcherTest {

    private static final byte[] IMAGE = "pretend-jpeg-bytes".getBytes(StandardCharsets.US_ASCII);
    private static final String SECRET = "s3cr3tToken";

    private static final byte[] GZIPPED_ZEROS = gzip(new byte[200_000]);

    private final InetAddress loopback = loopbackV4();
    private final AtomicReference<String> acceptEncoding = new AtomicReference<>();
    private final List<AutoCloseable> toClose = new ArrayList<>();
    private ExecutorService executor;
    private HttpServer server;
    private int port;

    @BeforeEach
    void startServer() throws IOException {
        executor = Executors.newCachedThreadPool();
        server = HttpServer.create(new InetSocketAddress(loopback, 0), 0);
        server.setExecutor(executor);
        server.createContext(
                "/", ex -> respond(ex, 200, ex.getRequestURI().toString().getBytes(StandardCharsets.US_ASCII)));
        server.createContext("/image", ex -> respond(ex, 200, IMAGE));
        server.createContext("/missing", ex -> respond(ex, 404, new byte[0]));
        server.createContext("/gone", ex -> respond(ex, 410, new byte[0]));
        server.createContext("/error", ex -> respond(ex, 500, "boom".getBytes(StandardCharsets.US_ASCII)));
        server.createContext(
                "/host",
                ex -> respond(ex, 200, ex.getRequestHeaders().getFirst("Host").getBytes(StandardCharsets.US_ASCII)));
        server.createContext("/hop/", ex -> {
            int left = Integer.parseInt(ex.getRequestURI().getPath().substring("/hop/".length()));
            if (left == 0) {
                respond(ex, 200, IMAGE);
            } else {
                redirect(ex, "/hop/" + (left - 1));
            }
        });
        server.createContext("/to-localhost", ex -> redirect(ex, "http://localhost:" + port + "/image"));
        server.createContext("/to-file", ex -> redirect(ex, "file:///etc/passwd"));
        server.createContext("/declared-big", ex -> stream(ex, 2_000_000, 2_000_000));
        server.createContext("/chunked-big", ex -> stream(ex, 0, 2_000_000));
        server.createContext("/chunked-small", ex -> stream(ex, 0, 1_000));
        server.createContext("/gzipped", ex -> {
            acceptEncoding.set(ex.getRequestHeaders().getFirst("Accept-Encoding"));
            ex.getResponseHeaders().set("Content-Encoding", "gzip");
            respond(ex, 200, GZIPPED_ZEROS);
        });
        server.createContext("/drip", ex -> {
            ex.sendResponseHeaders(200, 0);
            try (OutputStream out = ex.getResponseBody()) {
                for (int i = 0; i < 200; i++) {
                    out.write('x');
                    out.flush();
                    Thread.sleep(50);
                }
            } catch (IOException | InterruptedException e) {
                // client gave up
            }
        });
        server.start();
        port = server.getAddress().getPort();
    }

    @AfterEach
    void stopServer() throws Exception {
        server.stop(0);
        executor.shutdownNow();
        for (AutoCloseable closeable : toClose) {
            closeable.close();
        }
    }

    // --- allow-list and addresses ---

    @Test
    void fetchesFromAllowListedLoopbackWhenPrivateAddressesAreAllowed() throws Exception {
        HttpMediaFetcher fetcher = loopbackFetcher().build();

        assertThat(fetcher.fetch(url("/image"))).isEqualTo(IMAGE);
        assertThat(new String(fetcher.fetch("http://127.0.0.1:" + port + "?x=1"), StandardCharsets.US_ASCII))
                .as("an empty path requests /")
                .isEqualTo("/?x=1");
    }

    @Test
    void refusesEveryRemoteUrlByDefault() {
        MediaException e = fetchFailure(HttpMediaFetcher.builder().build(), url("/image"));

        assertThat(e.kind()).isEqualTo(MediaException.Kind.FORBIDDEN);
        assertThat(e.ozErrorCode()).isEqualTo(4);
        assertThat(e).hasMessageContaining("host 127.0.0.1 is not allow-listed");
    }

    @Test
    void refusesAllowListedHostsThatResolveToPrivateAddresses() {
        HttpMediaFetcher localhost =
                HttpMediaFetcher.builder().allowHosts("localhost").build();
        HttpMediaFetcher ip = HttpMediaFetcher.builder().allowHosts("127.0.0.1").build();

        for (MediaException e : List.of(
                fetchFailure(localhost, "http://localhost:" + port + "/image"), fetchFailure(ip, url("/image")))) {
            assertThat(e.kind()).isEqualTo(MediaException.Kind.FORBIDDEN);
            assertThat(e).hasMessageContaining("non-public address");
        }
    }

    @Test
    void everyResolvedAddressMustBePublic() {
        AtomicInteger lookups = new AtomicInteger();
        HttpMediaFetcher fetcher = HttpMediaFetcher.builder()
                .allowHosts("media.test")
                .resolver(host -> {
                    lookups.incrementAndGet();
                    // a public (documentation-range) address first, a loopback one second: refused before connecting
                    return new InetAddress[] {InetAddress.getByName("192.0.2.10"), loopback};
                })
                .build();

        MediaException e = fetchFailure(fetcher, "http://media.test:" + port + "/image");

        assertThat(e.kind()).isEqualTo(MediaException.Kind.FORBIDDEN);
        assertThat(e).hasMessageContaining("non-public address");
        assertThat(lookups).hasValue(1);
    }

    @Test
    void connectsToTheCheckedAddressAndSendsTheHostName() throws Exception {
        AtomicInteger lookups = new AtomicInteger();
        HttpMediaFetcher fetcher = HttpMediaFetcher.builder()
                .allowHosts("media.test")
                .allowPrivateAddresses(true)
                .resolver(host -> {
                    assertThat(host).isEqualTo("media.test");
                    lookups.incrementAndGet();
                    return new InetAddress[] {loopback};
                })
                .build();

        byte[] body = fetcher.fetch("http://media.test:" + port + "/host");

        assertThat(new String(body, StandardCharsets.US_ASCII)).isEqualTo("media.test:" + port);
        assertThat(lookups).hasValue(1);
        fetcher.fetch("http://media.test:" + port + "/hop/2");
        assertThat(lookups)
                .as("each redirect hop is resolved and checked again")
                .hasValue(4);
    }

    @Test
    void wildcardPatternsMatchSubdomainsOnly() {
        HttpMediaFetcher fetcher = HttpMediaFetcher.builder()
                .allowHosts("*.example.com", "Media.Example.org")
                .build();

        assertThat(fetcher.isAllowListed("cdn.example.com")).isTrue();
        assertThat(fetcher.isAllowListed("a.b.EXAMPLE.com.")).isTrue();
        assertThat(fetcher.isAllowListed("example.com")).isFalse();
        assertThat(fetcher.isAllowListed("badexample.com")).isFalse();
        assertThat(fetcher.isAllowListed("example.com.evil.net")).isFalse();
        assertThat(fetcher.isAllowListed("media.example.org")).isTrue();
        assertThat(fetcher.isAllowListed("x.media.example.org")).isFalse();
        for (String tooBroad : List.of("*", "*.com", "a*.example.com", "*.*.example.com", "")) {
            assertThatThrownBy(() -> HttpMediaFetcher.builder().allowHosts(tooBroad))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void refusesOtherSchemesAndCredentials() {
        HttpMediaFetcher fetcher = loopbackFetcher().build();

        for (String uri : List.of(
                "file:///etc/passwd",
                "ftp://127.0.0.1/x.jpg",
                "gopher://127.0.0.1/",
                "http://user:" + SECRET + "@127.0.0.1:" + port + "/image",
                "http://127.0.0.1/not a uri?sig=" + SECRET,
                "http:opaque")) {
            MediaException e = fetchFailure(fetcher, uri);
            assertThat(e.kind()).as(uri).isEqualTo(MediaException.Kind.FORBIDDEN);
            assertThat(e.getMessage()).doesNotContain(SECRET);
        }
    }

    // --- redirects ---

    @Test
    void redirectToAHostThatIsNotAllowListedIsRefused() {
        MediaException e = fetchFailure(loopbackFetcher().build(), url("/to-localhost"));

        assertThat(e.kind()).isEqualTo(MediaException.Kind.FORBIDDEN);
        assertThat(e).hasMessageContaining("host localhost is not allow-listed");
    }

    @Test
    void redirectToAnotherSchemeIsRefused() {
        MediaException e = fetchFailure(loopbackFetcher().build(), url("/to-file"));

        assertThat(e.kind()).isEqualTo(MediaException.Kind.FORBIDDEN);
        assertThat(e).hasMessageContaining("scheme 'file' is not allowed");
    }

    @Test
    void followsThreeRedirectsButNotFour() throws Exception {
        HttpMediaFetcher fetcher = loopbackFetcher().build();

        assertThat(fetcher.fetch(url("/hop/3"))).isEqualTo(IMAGE);
        MediaException e = fetchFailure(fetcher, url("/hop/4"));
        assertThat(e.kind()).isEqualTo(MediaException.Kind.REMOTE);
        assertThat(e).hasMessageContaining("too many redirects (more than 3)");
        assertThat(fetchFailure(loopbackFetcher().maxRedirects(0).build(), url("/hop/1")))
                .hasMessageContaining("too many redirects");
    }

    // --- statuses ---

    @Test
    void notFoundAndGoneAreNotFoundOtherErrorsAreRemote() {
        HttpMediaFetcher fetcher = loopbackFetcher().build();

        assertThat(fetchFailure(fetcher, url("/missing")).kind()).isEqualTo(MediaException.Kind.NOT_FOUND);
        assertThat(fetchFailure(fetcher, url("/missing")).ozErrorCode()).isEqualTo(10);
        assertThat(fetchFailure(fetcher, url("/gone")).kind()).isEqualTo(MediaException.Kind.NOT_FOUND);
        MediaException error = fetchFailure(fetcher, url("/error"));
        assertThat(error.kind()).isEqualTo(MediaException.Kind.REMOTE);
        assertThat(error.ozErrorCode()).isEqualTo(11);
        assertThat(error).hasMessageContaining("HTTP 500");
    }

    @Test
    void connectionRefusedIsRemote() throws Exception {
        int closedPort;
        try (ServerSocket probe = new ServerSocket(0, 1, loopback)) {
            closedPort = probe.getLocalPort();
        }
        MediaException e = fetchFailure(loopbackFetcher().build(), "http://127.0.0.1:" + closedPort + "/x");

        assertThat(e.kind()).isEqualTo(MediaException.Kind.REMOTE);
        assertThat(e).hasMessageContaining("cannot connect");
    }

    // --- size limits ---

    @Test
    void declaredLengthOverTheLimitIsRefusedBeforeReading() {
        MediaException e = fetchFailure(loopbackFetcher().maxBytes(1_000_000).build(), url("/declared-big"));

        assertThat(e.kind()).isEqualTo(MediaException.Kind.TOO_LARGE);
        assertThat(e).hasMessageContaining("declares 2000000 bytes");
    }

    @Test
    void chunkedBodyOverTheLimitIsRefused() throws Exception {
        HttpMediaFetcher fetcher = loopbackFetcher().maxBytes(1_000_000).build();

        MediaException e = fetchFailure(fetcher, url("/chunked-big"));
        assertThat(e.kind()).isEqualTo(MediaException.Kind.TOO_LARGE);
        assertThat(e).hasMessageContaining("is larger than the limit of 1000000 bytes");
        assertThat(fetcher.fetch(url("/chunked-small"))).hasSize(1_000);
        assertThat(loopbackFetcher().maxBytes(1_000).build().fetch(url("/chunked-small")))
                .hasSize(1_000);
        assertThat(fetchFailure(loopbackFetcher().maxBytes(999).build(), url("/chunked-small"))
                        .kind())
                .isEqualTo(MediaException.Kind.TOO_LARGE);
    }

    @Test
    void bodyDelimitedByConnectionCloseIsCountedToo() throws Exception {
        byte[] small = new byte[500];
        byte[] big = new byte[5_000];
        int smallPort = rawServer("HTTP/1.0 200 OK\r\nContent-Type: image/jpeg\r\n\r\n", small);
        int bigPort = rawServer("HTTP/1.0 200 OK\r\n\r\n", big);
        HttpMediaFetcher fetcher = loopbackFetcher().maxBytes(1_000).build();

        assertThat(fetcher.fetch("http://127.0.0.1:" + smallPort + "/")).hasSize(500);
        assertThat(fetchFailure(fetcher, "http://127.0.0.1:" + bigPort + "/").kind())
                .isEqualTo(MediaException.Kind.TOO_LARGE);
    }

    @Test
    void compressedBodiesAreNeitherRequestedNorInflated() throws Exception {
        HttpMediaFetcher fetcher = loopbackFetcher().maxBytes(10_000).build();

        assertThat(fetcher.fetch(url("/gzipped")))
                .as("the bytes as sent, counted against the limit")
                .isEqualTo(GZIPPED_ZEROS)
                .hasSizeLessThan(10_000);
        assertThat(acceptEncoding).hasValue("identity");
    }

    // --- timeouts ---

    @Test
    void serverThatNeverAnswersTimesOut() throws Exception {
        ServerSocket silent = new ServerSocket(0, 50, loopback); // the kernel accepts; nobody ever reads or writes
        toClose.add(silent);
        HttpMediaFetcher fetcher =
                loopbackFetcher().timeout(Duration.ofSeconds(1)).build();

        long start = System.nanoTime();
        MediaException e = fetchFailure(fetcher, "http://127.0.0.1:" + silent.getLocalPort() + "/x?sig=" + SECRET);
        long elapsedMillis = (System.nanoTime() - start) / 1_000_000;

        assertThat(e.kind()).isEqualTo(MediaException.Kind.REMOTE);
        assertThat(e)
                .hasMessageContaining("timed out after 1000 ms")
                .hasMessageContaining("http://127.0.0.1:" + silent.getLocalPort() + "/x");
        assertThat(e.getMessage()).doesNotContain(SECRET).doesNotContain("sig=");
        assertThat(elapsedMillis).isBetween(900L, 2_500L);
    }

    @Test
    void aHostLookupThatHangsCannotOutliveTheTotalTimeout() throws Exception {
        try (HangingResolver resolver = new HangingResolver()) {
            HttpMediaFetcher fetcher = HttpMediaFetcher.builder()
                    .allowHosts("media.test")
                    .allowPrivateAddresses(true)
                    .timeout(Duration.ofSeconds(1))
                    .resolver(resolver)
                    .build();
            long start = System.nanoTime();
            MediaException e = fetchFailure(fetcher, "http://media.test:" + port + "/image");
            long elapsedMillis = (System.nanoTime() - start) / 1_000_000;

            assertThat(resolver.lookups()).isEqualTo(1);
            assertThat(e.kind()).isEqualTo(MediaException.Kind.REMOTE);
            assertThat(e).hasMessageContaining("timed out after 1000 ms");
            assertThat(e.getCause()).hasMessageContaining("resolving host media.test");
            assertThat(elapsedMillis)
                    .as("well under the 30 s the lookup would take")
                    .isBetween(900L, 10_000L);
        }
    }

    @Test
    void tricklingServerCannotOutliveTheTotalTimeout() {
        HttpMediaFetcher fetcher =
                loopbackFetcher().timeout(Duration.ofSeconds(1)).build();

        long start = System.nanoTime();
        MediaException e = fetchFailure(fetcher, url("/drip"));
        long elapsedMillis = (System.nanoTime() - start) / 1_000_000;

        assertThat(e.kind()).isEqualTo(MediaException.Kind.REMOTE);
        assertThat(e).hasMessageContaining("timed out");
        assertThat(elapsedMillis).isBetween(900L, 2_500L);
    }

    @Test
    void aServerTricklingItsResponseHeadCannotOutliveTheTotalTimeout() throws Exception {
        // One byte of an endless header line every 50 ms: no read ever waits long, so only the deadline ends it.
        ServerSocket listener = new ServerSocket(0, 1, loopback);
        toClose.add(listener);
        executor.submit(() -> {
            try (Socket socket = listener.accept()) {
                OutputStream out = socket.getOutputStream();
                out.write("HTTP/1.1 200 OK\r\nX-Slow: ".getBytes(StandardCharsets.US_ASCII));
                for (int i = 0; i < 400; i++) {
                    out.write('a');
                    out.flush();
                    Thread.sleep(50);
                }
            } catch (IOException | InterruptedException e) {
                // client gave up
            }
            return null;
        });
        HttpMediaFetcher fetcher =
                loopbackFetcher().timeout(Duration.ofSeconds(1)).build();

        long start = System.nanoTime();
        MediaException e = fetchFailure(fetcher, "http://127.0.0.1:" + listener.getLocalPort() + "/x");
        long elapsedMillis = (System.nanoTime() - start) / 1_000_000;

        assertThat(e.kind()).isEqualTo(MediaException.Kind.REMOTE);
        assertThat(e).hasMessageContaining("timed out after 1000 ms");
        assertThat(elapsedMillis)
                .as("cut at the deadline, not after the 20 s the server would trickle")
                .isBetween(900L, 5_000L);
    }

    // --- messages ---

    @Test
    void queryStringsAndFragmentsNeverAppearInMessages() {
        HttpMediaFetcher fetcher = loopbackFetcher().maxBytes(10).build();
        String query = "?X-Amz-Signature=" + SECRET + "&token=" + SECRET + "#" + SECRET;

        for (String path :
                List.of("/missing", "/error", "/to-localhost", "/hop/5", "/chunked-small", "/declared-big")) {
            MediaException e = fetchFailure(fetcher, url(path) + query);
            assertThat(e.getMessage())
                    .as(path)
                    .contains(url(path))
                    .doesNotContain(SECRET)
                    .doesNotContain("?");
        }
        MediaException refused = fetchFailure(HttpMediaFetcher.builder().build(), url("/image") + query);
        assertThat(refused.getMessage()).doesNotContain(SECRET);
    }

    @Test
    void redactionDropsUserInfoQueryAndFragment() {
        assertThat(HttpMediaFetcher.redact("https://u:p@h.example/a/b?q=1#f")).isEqualTo("https://h.example/a/b");
        assertThat(HttpMediaFetcher.redact("no scheme ?q")).isEqualTo("no scheme ");
    }

    // --- configuration ---

    @Test
    void configurationSurvivesSerialization() throws Exception {
        HttpMediaFetcher original = loopbackFetcher().maxRedirects(1).build();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(original);
        }
        HttpMediaFetcher copy;
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            copy = (HttpMediaFetcher) in.readObject();
        }

        assertThat(copy.fetch(url("/hop/1"))).isEqualTo(IMAGE);
        assertThat(fetchFailure(copy, url("/hop/2"))).hasMessageContaining("more than 1");
    }

    // --- https ---

    @Test
    void httpsSendsTheHostNameAsSniAndChecksTheCertificateAgainstIt(@TempDir Path dir) throws Exception {
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        Assumptions.assumeTrue(Files.isExecutable(keytool), "keytool not available");
        Path keyStoreFile = dir.resolve("server.p12");
        char[] password = "changeit".toCharArray();
        Process process = new ProcessBuilder(
                        keytool.toString(),
                        "-genkeypair",
                        "-alias",
                        "media",
                        "-keyalg",
                        "EC",
                        "-groupname",
                        "secp256r1",
                        "-dname",
                        "CN=media.test",
                        "-ext",
                        "SAN=dns:media.test",
                        "-validity",
                        "2",
                        "-storetype",
                        "PKCS12",
                        "-keystore",
                        keyStoreFile.toString(),
                        "-storepass",
                        "changeit")
                .redirectErrorStream(true)
                .start();
        String keytoolOutput = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(keytoolOutput).isZero();

        KeyStore keyStore = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keyStoreFile)) {
            keyStore.load(in, password);
        }
        KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keys.init(keyStore, password);
        SSLContext serverTls = SSLContext.getInstance("TLS");
        serverTls.init(keys.getKeyManagers(), null, null);
        KeyStore trusted = KeyStore.getInstance("PKCS12");
        trusted.load(null, null);
        trusted.setCertificateEntry("media", keyStore.getCertificate("media"));
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(trusted);
        SSLContext clientTls = SSLContext.getInstance("TLS");
        clientTls.init(null, trust.getTrustManagers(), null);

        AtomicReference<List<SNIServerName>> sni = new AtomicReference<>();
        HttpsServer https = HttpsServer.create(new InetSocketAddress(loopback, 0), 0);
        https.setHttpsConfigurator(new HttpsConfigurator(serverTls));
        https.setExecutor(executor);
        https.createContext("/image", ex -> {
            sni.set(((ExtendedSSLSession) ((HttpsExchange) ex).getSSLSession()).getRequestedServerNames());
            respond(ex, 200, IMAGE);
        });
        https.start();
        toClose.add(() -> https.stop(0));
        int httpsPort = https.getAddress().getPort();

        HttpMediaFetcher.Builder builder = HttpMediaFetcher.builder()
                .allowHosts("media.test", "127.0.0.1")
                .allowPrivateAddresses(true)
                .resolver(host -> new InetAddress[] {loopback});
        HttpMediaFetcher fetcher = builder.sslContext(clientTls).build();

        assertThat(fetcher.fetch("https://media.test:" + httpsPort + "/image")).isEqualTo(IMAGE);
        assertThat(sni.get()).containsExactly(new SNIHostName("media.test"));

        // Same server, same trusted certificate, but reached by IP: the certificate does not name 127.0.0.1.
        MediaException wrongName = fetchFailure(fetcher, "https://127.0.0.1:" + httpsPort + "/image");
        assertThat(wrongName.kind()).isEqualTo(MediaException.Kind.REMOTE);
        assertThat(wrongName).hasMessageContaining("TLS");

        // The default trust store does not know the self-signed certificate.
        HttpMediaFetcher defaultTrust = HttpMediaFetcher.builder()
                .allowHosts("media.test")
                .allowPrivateAddresses(true)
                .resolver(host -> new InetAddress[] {loopback})
                .build();
        assertThat(fetchFailure(defaultTrust, "https://media.test:" + httpsPort + "/image")
                        .kind())
                .isEqualTo(MediaException.Kind.REMOTE);
    }

    // --- helpers ---

    private HttpMediaFetcher.Builder loopbackFetcher() {
        return HttpMediaFetcher.builder()
                .allowHosts("127.0.0.1")
                .allowPrivateAddresses(true)
                .connectTimeout(Duration.ofSeconds(2))
                .timeout(Duration.ofSeconds(5));
    }

    private String url(String path) {
        return "http://127.0.0.1:" + port + path;
    }

    private static MediaException fetchFailure(HttpMediaFetcher fetcher, String uri) {
        MediaException e = catchThrowableOfType(() -> fetcher.fetch(uri), MediaException.class);
        assertThat(e).as("fetching %s should fail", uri).isNotNull();
        return e;
    }

    private static void respond(HttpExchange exchange, int status, byte[] body) throws IOException {
        exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    private static void redirect(HttpExchange exchange, String location) throws IOException {
        exchange.getResponseHeaders().set("Location", location);
        exchange.sendResponseHeaders(302, -1);
        exchange.close();
    }

    /** Streams {@code total} bytes; {@code declared} 0 means chunked. Stops quietly when the client hangs up. */
    private static void stream(HttpExchange exchange, long declared, int total) throws IOException {
        exchange.sendResponseHeaders(200, declared);
        byte[] block = new byte[8192];
        try (OutputStream out = exchange.getResponseBody()) {
            for (int sent = 0; sent < total; sent += block.length) {
                out.write(block, 0, Math.min(block.length, total - sent));
            }
        } catch (IOException e) {
            // client gave up
        }
    }

    /** A one-shot server writing {@code head} and {@code body}, then closing: no Content-Length, no chunking. */
    private int rawServer(String head, byte[] body) throws IOException {
        ServerSocket listener = new ServerSocket(0, 1, loopback);
        toClose.add(listener);
        executor.submit(() -> {
            try (Socket socket = listener.accept()) {
                InputStream in = socket.getInputStream();
                byte[] window = new byte[4];
                while (!Arrays.equals(window, "\r\n\r\n".getBytes(StandardCharsets.US_ASCII))) {
                    int c = in.read();
                    if (c < 0) {
                        return null;
                    }
                    System.arraycopy(window, 1, window, 0, 3);
                    window[3] = (byte) c;
                }
                OutputStream out = socket.getOutputStream();
                out.write(head.getBytes(StandardCharsets.US_ASCII));
                out.write(body);
            } catch (IOException e) {
                // client gave up
            }
            return null;
        });
        return listener.getLocalPort();
    }

    private static byte[] gzip(byte[] data) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(bytes)) {
            out.write(data);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return bytes.toByteArray();
    }

    private static InetAddress loopbackV4() {
        try {
            return InetAddress.getByName("127.0.0.1");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
