package dev.biometry.net;

import java.io.IOException;
import java.io.Serializable;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Sends one HTTP {@code POST} to a URL under the rules of {@link GuardedHttpClient} (allow-list, non-public
 * addresses refused after DNS, connection to the checked address, TLS with SNI and host-name verification) and
 * returns the response status with its {@code Retry-After}. Redirects are not followed. One deadline bounds the
 * whole exchange: the host name lookup, connecting, the TLS handshake, writing the body (a peer that stops reading
 * is cut off at the deadline) and reading the response head; the response body is not read.
 *
 * <p>The configuration is serializable; {@link #close()} releases the connection pool.
 */
public final class HttpPoster implements Serializable, AutoCloseable {

    private static final long serialVersionUID = 1L;

    private final GuardedHttpClient client;
    private final long timeoutMillis;

    /**
     * The final response of a post.
     *
     * @param status the HTTP status
     * @param retryAfter the raw {@code Retry-After} header value (first one), or null when there is none
     */
    public record Response(int status, String retryAfter) {}

    private HttpPoster(Builder builder) {
        this.client = builder.client.build();
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
        client.check(client.parse(url));
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
        URI uri = client.parse(url);
        client.prepare();
        long deadlineNanos = System.nanoTime() + timeoutMillis * 1_000_000;
        try (GuardedHttpClient.Response response = client.send("POST", uri, headers, body, deadlineNanos)) {
            return new Response(response.status(), response.header("Retry-After"));
        } catch (GuardedHttpClient.ConnectFailedException e) {
            throw e;
        } catch (IOException e) {
            if (e instanceof SocketTimeoutException || GuardedHttpClient.remainingMillis(deadlineNanos) <= 0) {
                IOException timeout = new SocketTimeoutException(
                        "timed out after " + timeoutMillis + " ms posting to " + TargetPolicy.redact(uri));
                timeout.initCause(e);
                throw timeout;
            }
            throw new IOException("failed posting to " + TargetPolicy.redact(uri) + ": " + e.getMessage(), e);
        }
    }

    /** Releases the connection pool; posting again builds a new one. */
    @Override
    public void close() {
        client.close();
    }

    /** Configuration of an {@link HttpPoster}: https only, no host and no private address unless allowed. */
    public static final class Builder {

        private final GuardedHttpClient.Builder client =
                GuardedHttpClient.builder("webhook URL").allowPlainHttp(false);
        private Duration timeout = Duration.ofSeconds(10);

        private Builder() {}

        /** Hosts that may be posted to: exact names or IP literals, or {@code *.example.com} for any subdomain. */
        public Builder allowHosts(Collection<String> hosts) {
            client.allowHosts(hosts);
            return this;
        }

        public Builder allowPlainHttp(boolean allow) {
            client.allowPlainHttp(allow);
            return this;
        }

        /** Lets hosts resolve to loopback, private, link-local and other non-public addresses (tests, intranets). */
        public Builder allowPrivateAddresses(boolean allow) {
            client.allowPrivateAddresses(allow);
            return this;
        }

        /** Bounds each TCP connection attempt. */
        public Builder connectTimeout(Duration connectTimeout) {
            client.connectTimeout(connectTimeout);
            return this;
        }

        /** Bounds the whole exchange, host name lookup included. */
        public Builder timeout(Duration timeout) {
            this.timeout = GuardedHttpClient.positive(timeout, "timeout");
            return this;
        }

        /** Replaces DNS resolution (tests). IP literals never go through it. */
        Builder resolver(HostResolver resolver) {
            client.resolver(resolver);
            return this;
        }

        /** Replaces the public-address rule (tests). */
        Builder publicAddresses(TargetPolicy.AddressFilter filter) {
            client.publicAddresses(filter);
            return this;
        }

        public HttpPoster build() {
            return new HttpPoster(this);
        }
    }
}
