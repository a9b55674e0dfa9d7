package dev.biometry.media;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocketFactory;

/**
 * Sends one HTTP/1.1 {@code POST} to a URL under the rules of {@link GuardedConnector} (allow-list, non-public
 * addresses refused after DNS, connection to the checked address, TLS with SNI and host-name verification) and
 * returns the response status with its {@code Retry-After}. Redirects are not followed. One deadline bounds the
 * whole exchange: connecting, the TLS handshake, writing the body (a watchdog closes the socket of a peer that stops
 * reading) and reading the response head; the response body is not read.
 *
 * <p>The configuration is serializable; the watchdog thread starts on first use and ends with {@link #close()}.
 */
public final class HttpPoster implements Serializable, AutoCloseable {

    private static final long serialVersionUID = 1L;

    private final GuardedConnector connector;
    private final long timeoutMillis;

    private transient ScheduledThreadPoolExecutor watchdog;

    /**
     * The final response of a post.
     *
     * @param status the HTTP status
     * @param retryAfter the raw {@code Retry-After} header value (first one), or null when there is none
     */
    public record Response(int status, String retryAfter) {}

    private HttpPoster(Builder builder) {
        this.connector = builder.connector.build();
        this.timeoutMillis = builder.timeout.toMillis();
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Checks what can be checked without the network: URL syntax, scheme, credentials, allow-list and, for IP
     * literals, the address rules. Host names are resolved and checked by {@link #post}.
     */
    public void checkTarget(String url) throws TargetRefusedException {
        connector.check(connector.parse(url));
    }

    /**
     * Posts {@code body} with {@code headers} (sent in order, after {@code Host}; {@code Content-Length} and
     * {@code Connection: close} are added) and returns the final status and its {@code Retry-After} (interim 1xx
     * responses are skipped).
     *
     * @throws TargetRefusedException when the URL or an address it resolves to is not allowed; nothing was sent
     * @throws IOException when the host does not resolve or answer, TLS fails, the response is malformed or the
     *     timeout passes; the message names the URL without query
     */
    public Response post(String url, List<Map.Entry<String, String>> headers, byte[] body)
            throws TargetRefusedException, IOException {
        URI uri = connector.parse(url);
        long deadlineNanos = System.nanoTime() + timeoutMillis * 1_000_000;
        try (Socket socket = connector.open(uri, deadlineNanos)) {
            ScheduledFuture<?> guard = watchdog().schedule(() -> GuardedConnector.closeQuietly(socket),
                    Math.max(1, GuardedConnector.remainingMillis(deadlineNanos)), TimeUnit.MILLISECONDS);
            try {
                String target = uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
                String hostHeader = uri.getHost() + (uri.getPort() >= 0 ? ":" + uri.getPort() : "");
                Http11Wire.writeRequest(new BufferedOutputStream(socket.getOutputStream()), "POST", target,
                        hostHeader, headers, body);
                InputStream in = new BufferedInputStream(new Http11Wire.DeadlineInputStream(socket, deadlineNanos));
                Http11Wire.Head head = Http11Wire.readHead(in);
                return new Response(head.status(), head.first("retry-after"));
            } finally {
                guard.cancel(false);
            }
        } catch (GuardedConnector.ConnectFailedException e) {
            throw e;
        } catch (IOException e) {
            if (e instanceof SocketTimeoutException || GuardedConnector.remainingMillis(deadlineNanos) <= 0) {
                IOException timeout = new SocketTimeoutException(
                        "timed out after " + timeoutMillis + " ms posting to " + GuardedConnector.redact(uri));
                timeout.initCause(e);
                throw timeout;
            }
            throw new IOException("failed posting to " + GuardedConnector.redact(uri) + ": " + e.getMessage(), e);
        }
    }

    private synchronized ScheduledThreadPoolExecutor watchdog() {
        if (watchdog == null) {
            watchdog = new ScheduledThreadPoolExecutor(1, r -> {
                Thread t = new Thread(r, "http-post-watchdog");
                t.setDaemon(true);
                return t;
            });
            watchdog.setRemoveOnCancelPolicy(true);
        }
        return watchdog;
    }

    /** Stops the watchdog thread; posting again starts a new one. */
    @Override
    public synchronized void close() {
        if (watchdog != null) {
            watchdog.shutdownNow();
            watchdog = null;
        }
    }

    /** Configuration of an {@link HttpPoster}: https only, no host and no private address unless allowed. */
    public static final class Builder {

        private final GuardedConnector.Builder connector =
                GuardedConnector.builder("webhook URL").allowPlainHttp(false);
        private Duration timeout = Duration.ofSeconds(10);

        private Builder() {}

        /** Hosts that may be posted to: exact names or IP literals, or {@code *.example.com} for any subdomain. */
        public Builder allowHosts(Collection<String> hosts) {
            connector.allowHosts(hosts);
            return this;
        }

        public Builder allowPlainHttp(boolean allow) {
            connector.allowPlainHttp(allow);
            return this;
        }

        /** Lets hosts resolve to loopback, private, link-local and other non-public addresses (tests, intranets). */
        public Builder allowPrivateAddresses(boolean allow) {
            connector.allowPrivateAddresses(allow);
            return this;
        }

        /** Bounds each TCP connection attempt. */
        public Builder connectTimeout(Duration connectTimeout) {
            connector.connectTimeout(positive(connectTimeout, "connectTimeout"));
            return this;
        }

        /** Bounds the whole exchange, host name lookup included. */
        public Builder timeout(Duration timeout) {
            this.timeout = positive(timeout, "timeout");
            return this;
        }

        /** Replaces DNS resolution (tests). IP literals never go through it. */
        Builder resolver(GuardedConnector.HostResolver resolver) {
            connector.resolver(resolver);
            return this;
        }

        /** Replaces the default TLS socket factory (tests). */
        Builder sslSocketFactory(SSLSocketFactory sslSocketFactory) {
            connector.sslSocketFactory(sslSocketFactory);
            return this;
        }

        public HttpPoster build() {
            return new HttpPoster(this);
        }

        private static Duration positive(Duration duration, String name) {
            if (duration == null || duration.isNegative() || duration.isZero()
                    || duration.toMillis() > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(name + " must be positive");
            }
            return duration;
        }
    }
}
