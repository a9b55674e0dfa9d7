package dev.biometry.media;

import dev.biometry.net.GuardedHttpClient;
import dev.biometry.net.HostResolver;
import dev.biometry.net.TargetPolicy;
import dev.biometry.net.TargetRefusedException;
import java.io.IOException;
import java.io.Serializable;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;

/**
 * Fetches {@code http://} and {@code https://} media without becoming an SSRF tool (the address and allow-list rules
 * and the HTTP client live in {@link GuardedHttpClient}, shared with webhook delivery).
 *
 * <ul>
 *   <li>Only allow-listed hosts are contacted: exact names ({@code media.example.com}, {@code 127.0.0.1}) or
 *       {@code *.example.com} patterns (any subdomain, not the apex). The list is empty by default, so by default
 *       every remote URL is refused.
 *   <li>Every address the host resolves to must be public unless private addresses
 *       are allowed; the socket then connects to one of exactly those checked addresses, so a DNS answer that
 *       changes between the check and the connection (DNS rebinding) is never used. HTTPS still sends the host
 *       name as SNI and verifies the certificate against the host name.
 *   <li>Redirects are followed by hand, each hop re-checked (scheme, allow-list, addresses), at most
 *       {@code maxRedirects} of them.
 *   <li>The body is read up to {@code maxBytes}; a larger declared {@code Content-Length} is refused before reading.
 *   <li>One deadline bounds the whole fetch, redirects and host name lookups included; connecting to each address
 *       is also bounded by the connect timeout.
 * </ul>
 *
 * <p>Errors are {@link MediaException}s: refused URLs {@code FORBIDDEN} (Oz 4), 404/410 {@code NOT_FOUND} (10),
 * bodies over the limit {@code TOO_LARGE} (4), everything the remote side did wrong {@code REMOTE} (11). Messages
 * name the URL without user info, query or fragment, which may carry secrets.
 *
 * <p>HTTP/1.1 on Apache HttpClient 5, one request per connection, no compression, no proxies. The configuration is
 * serializable; the client is built on first use and released by {@link #close()}.
 */
public final class HttpMediaFetcher implements Serializable, AutoCloseable {

    private static final long serialVersionUID = 1L;

    public static final int DEFAULT_MAX_REDIRECTS = 3;
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(20);
    public static final long DEFAULT_MAX_BYTES = 10L * 1024 * 1024;

    private static final List<Map.Entry<String, String>> HEADERS = List.of(
            Map.entry("User-Agent", "biometry-media-fetcher"),
            Map.entry("Accept", "*/*"),
            Map.entry("Accept-Encoding", "identity"));

    private final GuardedHttpClient client;
    private final int maxRedirects;
    private final long timeoutMillis;
    private final long maxBytes;

    private HttpMediaFetcher(Builder builder) {
        this.client = builder.client.build();
        this.maxRedirects = builder.maxRedirects;
        this.timeoutMillis = builder.timeout.toMillis();
        this.maxBytes = builder.maxBytes;
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Downloads {@code uriText}, following at most {@code maxRedirects} redirects.
     *
     * @throws MediaException {@code FORBIDDEN} for a malformed or refused URL (scheme, host, address, user info),
     *     {@code NOT_FOUND} for 404/410, {@code TOO_LARGE} over the byte limit, {@code REMOTE} for unreachable
     *     hosts, timeouts, other error statuses, too many redirects and malformed responses
     */
    public byte[] fetch(String uriText) throws MediaException {
        URI original = parse(uriText);
        try {
            client.prepare();
        } catch (IOException e) {
            throw new MediaException(MediaException.Kind.REMOTE, "cannot set up the HTTP client: " + e.getMessage(), e);
        }
        long deadlineNanos = System.nanoTime() + timeoutMillis * 1_000_000;
        URI uri = original;
        int redirects = 0;
        try {
            while (true) {
                Outcome outcome = exchange(uri, deadlineNanos);
                if (outcome.body != null) {
                    return outcome.body;
                }
                if (redirects >= maxRedirects) {
                    throw new MediaException(
                            MediaException.Kind.REMOTE,
                            "too many redirects (more than " + maxRedirects + ") fetching " + redact(uri));
                }
                uri = redirectTarget(uri, outcome.location);
                redirects++;
            }
        } catch (MediaException e) {
            if (redirects == 0) {
                throw e;
            }
            throw new MediaException(
                    e.kind(), e.getMessage() + " (redirected from " + redact(original) + ")", e.getCause());
        }
    }

    private URI parse(String uriText) throws MediaException {
        try {
            return client.parse(uriText);
        } catch (TargetRefusedException e) {
            throw new MediaException(MediaException.Kind.FORBIDDEN, e.getMessage());
        }
    }

    /** Whether {@code host} (no brackets) matches an exact entry or a {@code *.suffix} pattern. */
    public boolean isAllowListed(String host) {
        return client.isAllowListed(host);
    }

    /** What one request produced: a 2xx body or a redirect location. */
    private record Outcome(byte[] body, String location) {}

    private Outcome exchange(URI uri, long deadlineNanos) throws MediaException {
        try (GuardedHttpClient.Response response = client.send("GET", uri, HEADERS, null, deadlineNanos)) {
            int status = response.status();
            if (status >= 200 && status < 300) {
                return new Outcome(response.body(maxBytes), null);
            }
            if (status == 301 || status == 302 || status == 303 || status == 307 || status == 308) {
                String location = response.header("Location");
                if (location == null || location.isBlank()) {
                    throw new MediaException(
                            MediaException.Kind.REMOTE,
                            "HTTP " + status + " without a Location header from " + redact(uri));
                }
                return new Outcome(null, location);
            }
            if (status == 404 || status == 410) {
                throw new MediaException(
                        MediaException.Kind.NOT_FOUND, "HTTP " + status + ": media not found at " + redact(uri));
            }
            throw new MediaException(MediaException.Kind.REMOTE, "HTTP " + status + " from " + redact(uri));
        } catch (TargetRefusedException e) {
            throw new MediaException(MediaException.Kind.FORBIDDEN, e.getMessage());
        } catch (GuardedHttpClient.ConnectFailedException e) {
            throw new MediaException(MediaException.Kind.REMOTE, e.getMessage(), e.getCause());
        } catch (GuardedHttpClient.BodyTooLargeException e) {
            String size = e.declared >= 0
                    ? " declares " + e.declared + " bytes; the limit is "
                    : " is larger than the limit of ";
            throw new MediaException(
                    MediaException.Kind.TOO_LARGE, "media " + redact(uri) + size + maxBytes + " bytes");
        } catch (SocketTimeoutException e) {
            throw timeout(uri, e);
        } catch (SSLException e) {
            throw new MediaException(
                    MediaException.Kind.REMOTE, "TLS failure fetching " + redact(uri) + ": " + e.getMessage(), e);
        } catch (GuardedHttpClient.MalformedResponseException e) {
            throw new MediaException(
                    MediaException.Kind.REMOTE,
                    "malformed HTTP response from " + redact(uri) + ": " + e.getMessage(),
                    e);
        } catch (IOException e) {
            throw new MediaException(
                    MediaException.Kind.REMOTE, "failed fetching " + redact(uri) + ": " + e.getMessage(), e);
        }
    }

    private URI redirectTarget(URI from, String location) throws MediaException {
        try {
            URI target = from.resolve(new URI(location.trim()));
            return parse(target.toString());
        } catch (URISyntaxException | IllegalArgumentException e) {
            throw new MediaException(MediaException.Kind.REMOTE, "invalid redirect location from " + redact(from));
        } catch (MediaException e) {
            throw new MediaException(
                    MediaException.Kind.FORBIDDEN, "invalid redirect location from " + redact(from), e);
        }
    }

    private MediaException timeout(URI uri, Exception cause) {
        return new MediaException(
                MediaException.Kind.REMOTE, "timed out after " + timeoutMillis + " ms fetching " + redact(uri), cause);
    }

    /** {@code scheme://host[:port]/path}: no user info, query or fragment. */
    static String redact(URI uri) {
        return TargetPolicy.redact(uri);
    }

    /** The same for text that is not even a URI. */
    static String redact(String uriText) {
        return TargetPolicy.redact(uriText);
    }

    /** Releases the connection pool; fetching again builds a new one. */
    @Override
    public void close() {
        client.close();
    }

    /** Configuration of an {@link HttpMediaFetcher}; every setting has a safe default. */
    public static final class Builder {

        private final GuardedHttpClient.Builder client =
                GuardedHttpClient.builder("media URL").connectTimeout(DEFAULT_CONNECT_TIMEOUT);
        private int maxRedirects = DEFAULT_MAX_REDIRECTS;
        private Duration timeout = DEFAULT_TIMEOUT;
        private long maxBytes = DEFAULT_MAX_BYTES;

        private Builder() {}

        /**
         * Adds hosts that may be fetched from: exact names or IP literals, or {@code *.example.com} for any
         * subdomain of {@code example.com} (not {@code example.com} itself). A wildcard needs at least two labels
         * after {@code *.}; {@code *} alone and {@code *.com} are rejected.
         */
        public Builder allowHosts(Collection<String> hosts) {
            client.allowHosts(hosts);
            return this;
        }

        public Builder allowHosts(String... hosts) {
            return allowHosts(List.of(hosts));
        }

        /** Lets hosts resolve to loopback, private, link-local and other non-public addresses (tests, intranets). */
        public Builder allowPrivateAddresses(boolean allow) {
            client.allowPrivateAddresses(allow);
            return this;
        }

        public Builder maxRedirects(int maxRedirects) {
            if (maxRedirects < 0) {
                throw new IllegalArgumentException("maxRedirects must be >= 0");
            }
            this.maxRedirects = maxRedirects;
            return this;
        }

        /** Bounds each TCP connection attempt. */
        public Builder connectTimeout(Duration connectTimeout) {
            client.connectTimeout(connectTimeout);
            return this;
        }

        /** Bounds the whole fetch: every host name lookup, connection, TLS handshake, read and redirect. */
        public Builder timeout(Duration timeout) {
            this.timeout = GuardedHttpClient.positive(timeout, "timeout");
            return this;
        }

        public Builder maxBytes(long maxBytes) {
            if (maxBytes < 0 || maxBytes > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("maxBytes must be between 0 and " + (Integer.MAX_VALUE - 8));
            }
            this.maxBytes = maxBytes;
            return this;
        }

        /** Replaces DNS resolution (tests). IP literals never go through it. */
        Builder resolver(HostResolver resolver) {
            client.resolver(resolver);
            return this;
        }

        /** Replaces the default TLS context (tests); not serialized, the default returns after a round trip. */
        Builder sslContext(SSLContext sslContext) {
            client.sslContext(sslContext);
            return this;
        }

        public HttpMediaFetcher build() {
            return new HttpMediaFetcher(this);
        }
    }
}
