package dev.biometry.testing;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.IntSupplier;
import java.util.function.Predicate;

/**
 * A webhook receiver for tests: a JDK HTTP server on 127.0.0.1 that records every request (headers and exact body
 * bytes) and answers with the status its script gives for the n-th request (1-based).
 */
public final class WebhookReceiver implements AutoCloseable {

    /** The answer to the n-th request (1-based). */
    @FunctionalInterface
    public interface Script {
        int status(int requestNumber, Request request);
    }

    /** The response headers for the n-th request (1-based). */
    @FunctionalInterface
    public interface HeaderScript {
        Map<String, String> headers(int requestNumber, Request request);
    }

    /** One received request: path with query, headers (first value per lower-case name), body. */
    public record Request(
            String method, String pathAndQuery, Map<String, String> headers, byte[] body, long receivedAtMillis) {

        public String header(String name) {
            return headers.get(name.toLowerCase(java.util.Locale.ROOT));
        }
    }

    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private volatile Script script;
    private volatile HeaderScript headerScript = (n, r) -> Map.of();

    public WebhookReceiver(Script script) throws IOException {
        this.script = script;
        server = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 0);
        server.setExecutor(executor);
        server.createContext("/", exchange -> {
            try (InputStream in = exchange.getRequestBody()) {
                Map<String, String> headers = new TreeMap<>();
                exchange.getRequestHeaders()
                        .forEach((name, values) -> headers.put(name.toLowerCase(java.util.Locale.ROOT), values.get(0)));
                Request request = new Request(
                        exchange.getRequestMethod(),
                        exchange.getRequestURI().toString(),
                        headers,
                        in.readAllBytes(),
                        System.currentTimeMillis());
                int status;
                Map<String, String> responseHeaders;
                synchronized (requests) {
                    requests.add(request);
                    status = this.script.status(requests.size(), request);
                    responseHeaders = this.headerScript.headers(requests.size(), request);
                }
                responseHeaders.forEach(
                        (name, value) -> exchange.getResponseHeaders().add(name, value));
                exchange.sendResponseHeaders(status, -1);
            } finally {
                exchange.close();
            }
        });
        server.start();
    }

    /** Always answers {@code status}. */
    public static WebhookReceiver answering(int status) throws IOException {
        return new WebhookReceiver((n, r) -> status);
    }

    /** Answers {@code firstStatus} to the first {@code times} requests, then 200. */
    public static WebhookReceiver failingFirst(int times, int firstStatus) throws IOException {
        return new WebhookReceiver((n, r) -> n <= times ? firstStatus : 200);
    }

    /** Replaces the script, e.g. to bring a receiver "back up". */
    public void answer(IntSupplier status) {
        this.script = (n, r) -> status.getAsInt();
    }

    /** Adds the headers {@code headers} gives to every later answer, e.g. a {@code Retry-After}. */
    public WebhookReceiver withResponseHeaders(HeaderScript headers) {
        this.headerScript = headers;
        return this;
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /** {@code http://<host>:<port><path>}. */
    public String url(String host, String path) {
        return "http://" + host + ":" + port() + path;
    }

    public List<Request> requests() {
        return List.copyOf(requests);
    }

    /** Requests whose path starts with {@code pathPrefix}. */
    public List<Request> requests(String pathPrefix) {
        List<Request> out = new ArrayList<>();
        for (Request r : requests) {
            if (r.pathAndQuery().startsWith(pathPrefix)) {
                out.add(r);
            }
        }
        return out;
    }

    /** Waits until {@code done} holds for the requests under {@code pathPrefix}; returns them. */
    public List<Request> await(String pathPrefix, Predicate<List<Request>> done, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<Request> matching = requests(pathPrefix);
            if (done.test(matching)) {
                return matching;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for webhooks on " + pathPrefix
                        + "; received " + matching.size());
            }
            Thread.sleep(50);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
