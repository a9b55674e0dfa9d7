package dev.biometry.net;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.Proxy;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import org.apache.hc.client5.http.ClientProtocolException;
import org.apache.hc.client5.http.ConnectTimeoutException;
import org.apache.hc.client5.http.DnsResolver;
import org.apache.hc.client5.http.SchemePortResolver;
import org.apache.hc.client5.http.classic.methods.HttpUriRequestBase;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.DefaultHttpClientConnectionOperator;
import org.apache.hc.client5.http.impl.io.ManagedHttpClientConnectionFactory;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.client5.http.io.HttpClientConnectionManager;
import org.apache.hc.client5.http.io.HttpClientConnectionOperator;
import org.apache.hc.client5.http.ssl.DefaultClientTlsStrategy;
import org.apache.hc.client5.http.ssl.HostnameVerificationPolicy;
import org.apache.hc.client5.http.ssl.TlsSocketStrategy;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.ConnectionClosedException;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.MalformedChunkCodingException;
import org.apache.hc.core5.http.MessageConstraintException;
import org.apache.hc.core5.http.NoHttpResponseException;
import org.apache.hc.core5.http.URIScheme;
import org.apache.hc.core5.http.config.Http1Config;
import org.apache.hc.core5.http.config.RegistryBuilder;
import org.apache.hc.core5.http.io.entity.ByteArrayEntity;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.util.Timeout;

/**
 * Outbound HTTP for media downloads and webhooks, on Apache HttpClient 5 (classic, blocking), without becoming an
 * SSRF tool:
 *
 * <ul>
 *   <li>Every URL passes its {@link TargetPolicy} before anything is sent: scheme, no user info, allow-listed host.
 *   <li>The client's only resolver is a {@link CheckedDnsResolver}: every address a host resolves to must be public
 *       unless private addresses are allowed, and the socket connects to one of exactly those checked addresses (no
 *       second lookup, so a DNS answer that changes between the check and the connection is never used). HTTPS still
 *       sends the host name as SNI and verifies the certificate against the host name (JSSE's {@code HTTPS}
 *       endpoint identification, the default trust store unless a test gives another).
 *   <li>Connections are never reused ({@code Connection: close}), so every request resolves and checks its host
 *       again; redirects, retries, cookies, authentication, protocol upgrades and content decompression are all off
 *       (a compressed body is returned as it came, counted against the byte limit); no proxy is used, not even a
 *       SOCKS proxy of the JVM's system properties.
 *   <li>One deadline bounds a whole exchange: the host name lookup (abandoned at the deadline), each connection
 *       attempt (also bounded by the connect timeout), the TLS handshake, writing the request, the response head and
 *       the body. At the deadline a shared watchdog thread cancels the request, which closes its socket, so neither
 *       a peer that stops reading nor one that trickles bytes can hold the calling thread longer.
 *   <li>Response heads are bounded (lines of 8 KiB, 200 header lines); bodies are read up to a limit, a larger
 *       declared {@code Content-Length} refused before reading.
 * </ul>
 *
 * <p>Blocking: callers run it on their own bounded pools (Flink async I/O for media, the webhook operator's sender
 * threads), one connection per calling thread. The configuration is serializable; the HttpClient (no threads of its
 * own) is built on first use and released by {@link #close()}.
 */
public final class GuardedHttpClient implements Serializable, AutoCloseable {

    private static final long serialVersionUID = 1L;

    /** Bound of the connection pool; the callers' threads bound the connections in use well below it. */
    private static final int MAX_CONNECTIONS = 1024;

    private static final int MAX_LINE = 8 * 1024;
    private static final int MAX_HEADER_LINES = 200;

    private static final RequestConfig BASE_CONFIG = RequestConfig.custom()
            .setRedirectsEnabled(false)
            .setAuthenticationEnabled(false)
            .setContentCompressionEnabled(false)
            .setProtocolUpgradeEnabled(false)
            .setExpectContinueEnabled(false)
            .build();

    /** Cancels requests at their deadline; one daemon thread for the JVM, ended after 30 s without work. */
    private static final ScheduledThreadPoolExecutor WATCHDOG = watchdog();

    private final TargetPolicy policy;
    private final long connectTimeoutMillis;
    private final HostResolver resolver;

    private transient SSLContext sslContext;
    private transient volatile CloseableHttpClient client;

    /** The host did not resolve or none of its addresses accepted a connection; the message says which. */
    public static final class ConnectFailedException extends IOException {
        private static final long serialVersionUID = 1L;

        public ConnectFailedException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The response was not well-formed HTTP or ended early. */
    public static final class MalformedResponseException extends IOException {
        private static final long serialVersionUID = 1L;

        MalformedResponseException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The body declares or reaches more bytes than allowed. */
    public static final class BodyTooLargeException extends IOException {
        private static final long serialVersionUID = 1L;

        /** The declared length, or -1 when the body was counted while reading. */
        public final long declared;

        BodyTooLargeException(long declared) {
            super(declared >= 0 ? "declared length " + declared + " exceeds the limit" : "body exceeds the limit");
            this.declared = declared;
        }
    }

    private GuardedHttpClient(Builder builder) {
        this.policy = builder.policy.build();
        this.connectTimeoutMillis = builder.connectTimeout.toMillis();
        this.resolver = builder.resolver;
        this.sslContext = builder.sslContext;
    }

    /** @param label names the URLs in messages, e.g. {@code "media URL"} */
    public static Builder builder(String label) {
        return new Builder(label);
    }

    /**
     * Builds the HttpClient now if it is not built yet (once: class loading, the default TLS context and its trust
     * store, the pool). Callers do this before starting a request's deadline: it is local work, not the remote
     * side's time, and on a loaded machine it can take longer than a short deadline.
     */
    public void prepare() throws IOException {
        client();
    }

    /** See {@link TargetPolicy#parse}. */
    public URI parse(String uriText) throws TargetRefusedException {
        return policy.parse(uriText);
    }

    /** See {@link TargetPolicy#check}. */
    public String check(URI uri) throws TargetRefusedException {
        return policy.check(uri);
    }

    /** See {@link TargetPolicy#isAllowListed}. */
    public boolean isAllowListed(String host) {
        return policy.isAllowListed(host);
    }

    /**
     * Sends one request and returns its final response (interim 1xx responses are skipped) with the body unread. The
     * caller reads what it needs and closes the response; the deadline keeps running until then.
     *
     * @param headers sent in order after {@code Host}; {@code Content-Length} and {@code Connection: close} are added
     * @param body the request body, or null for none
     * @param deadlineNanos the end of the whole exchange, on the {@link System#nanoTime()} scale
     * @throws TargetRefusedException when the URL or an address its host resolves to is not allowed; nothing was sent
     * @throws ConnectFailedException when the host does not resolve or no address accepts a connection
     * @throws SocketTimeoutException when the deadline passes
     * @throws SSLException when the TLS handshake fails (certificate, host name, protocol)
     * @throws MalformedResponseException when the response is not well-formed HTTP
     * @throws IllegalArgumentException for a header name that is not an HTTP token or a value with control characters
     *     (no header injection)
     */
    public Response send(
            String method, URI uri, List<Map.Entry<String, String>> headers, byte[] body, long deadlineNanos)
            throws TargetRefusedException, IOException {
        policy.check(uri);
        String where = TargetPolicy.redact(uri);
        HttpUriRequestBase request = new HttpUriRequestBase(method, uri);
        for (Map.Entry<String, String> header : headers) {
            checkHeader(header.getKey(), header.getValue());
            request.addHeader(header.getKey(), header.getValue());
        }
        request.setHeader("Connection", "close");
        if (body != null) {
            request.setEntity(new ByteArrayEntity(body, (ContentType) null));
        }
        long remaining = remainingMillis(deadlineNanos);
        if (remaining <= 0) {
            throw new SocketTimeoutException("total timeout reached");
        }
        request.setConfig(RequestConfig.copy(BASE_CONFIG)
                .setConnectionRequestTimeout(Timeout.ofMilliseconds(remaining))
                .setResponseTimeout(Timeout.ofMilliseconds(remaining))
                .build());
        CloseableHttpClient http = client();
        ScheduledFuture<?> watchdog = WATCHDOG.schedule(request::cancel, remaining, TimeUnit.MILLISECONDS);
        CheckedDnsResolver.during(new CheckedDnsResolver.Call(where, deadlineNanos));
        try {
            return new Response(request, http.executeOpen(null, request, null), watchdog, where, deadlineNanos);
        } catch (CheckedDnsResolver.Failure e) {
            watchdog.cancel(false);
            if (e.reason instanceof TargetRefusedException refused) {
                throw refused;
            }
            throw (IOException) e.reason;
        } catch (IOException e) {
            watchdog.cancel(false);
            throw translate(e, where, deadlineNanos);
        } catch (RuntimeException e) {
            watchdog.cancel(false);
            throw translate(new IOException(e.toString(), e), where, deadlineNanos);
        } finally {
            CheckedDnsResolver.done();
        }
    }

    /** What the client threw, as the exceptions {@link #send} documents. */
    private IOException translate(IOException e, String where, long deadlineNanos) {
        if (remainingMillis(deadlineNanos) <= 0 && !(e instanceof SocketTimeoutException)) {
            // the watchdog cancelled the request: its socket was closed under whatever was blocked on it
            SocketTimeoutException timeout = new SocketTimeoutException("total timeout reached");
            timeout.initCause(e);
            return timeout;
        }
        if (e instanceof ConnectTimeoutException) {
            return new ConnectFailedException("connect timed out after " + connectTimeoutMillis + " ms: " + where, e);
        }
        if (e instanceof ConnectException || e instanceof NoRouteToHostException) {
            Throwable reason = e.getCause() != null ? e.getCause() : e;
            return new ConnectFailedException("cannot connect to " + where + ": " + reason.getMessage(), e);
        }
        if (e instanceof ClientProtocolException
                || e instanceof NoHttpResponseException
                || e instanceof ConnectionClosedException
                || e instanceof MalformedChunkCodingException
                || e instanceof MessageConstraintException) {
            return new MalformedResponseException(e.getMessage(), e);
        }
        return e;
    }

    private static void checkHeader(String name, String value) {
        boolean token = !name.isEmpty()
                && name.chars().allMatch(c -> c > 0x20 && c < 0x7F && "()<>@,;:\\\"/[]?={}".indexOf(c) < 0);
        if (!token) {
            throw new IllegalArgumentException("invalid header name: " + name);
        }
        if (!value.chars().allMatch(c -> (c >= 0x20 && c != 0x7F && c <= 0xFF) || c == '\t')) {
            throw new IllegalArgumentException("invalid value of header " + name);
        }
    }

    /** A response whose body is still on the wire. Closing it drops whatever was not read, with the connection. */
    public final class Response implements AutoCloseable {

        private final HttpUriRequestBase request;
        private final ClassicHttpResponse response;
        private final ScheduledFuture<?> watchdog;
        private final String where;
        private final long deadlineNanos;

        private Response(
                HttpUriRequestBase request,
                ClassicHttpResponse response,
                ScheduledFuture<?> watchdog,
                String where,
                long deadlineNanos) {
            this.request = request;
            this.response = response;
            this.watchdog = watchdog;
            this.where = where;
            this.deadlineNanos = deadlineNanos;
        }

        public int status() {
            return response.getCode();
        }

        /** The first value of header {@code name}, or null. */
        public String header(String name) {
            Header header = response.getFirstHeader(name);
            return header == null ? null : header.getValue();
        }

        /**
         * Reads the body, at most {@code maxBytes} of it, before the deadline.
         *
         * @throws BodyTooLargeException as soon as the declared or the received length exceeds {@code maxBytes}
         * @throws SocketTimeoutException when the deadline passes
         * @throws MalformedResponseException when the body's framing is broken or the body ends early
         */
        public byte[] body(long maxBytes) throws IOException {
            HttpEntity entity = response.getEntity();
            if (entity == null) {
                return new byte[0];
            }
            long declared = entity.getContentLength();
            if (declared > maxBytes) {
                throw new BodyTooLargeException(declared);
            }
            try {
                // Not closed here: closing the stream early would drain the rest; close() drops the connection.
                InputStream in = entity.getContent();
                ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.max(0, Math.min(declared, 1 << 20)));
                byte[] buffer = new byte[8192];
                long total = 0;
                while (true) {
                    if (remainingMillis(deadlineNanos) <= 0) {
                        throw new SocketTimeoutException("total timeout reached");
                    }
                    int n = in.read(buffer, 0, (int) Math.min(buffer.length, maxBytes + 1 - total));
                    if (n < 0) {
                        return out.toByteArray();
                    }
                    total += n;
                    if (total > maxBytes) {
                        throw new BodyTooLargeException(-1);
                    }
                    out.write(buffer, 0, n);
                }
            } catch (BodyTooLargeException | SocketTimeoutException e) {
                throw e;
            } catch (IOException e) {
                throw translate(e, where, deadlineNanos);
            }
        }

        /** Stops the deadline and drops the connection without reading what is left. */
        @Override
        public void close() {
            watchdog.cancel(false);
            request.cancel();
            try {
                response.close();
            } catch (IOException ignored) {
                // the connection is gone already
            }
        }
    }

    private CloseableHttpClient client() throws IOException {
        CloseableHttpClient http = client;
        if (http == null) {
            synchronized (this) {
                http = client;
                if (http == null) {
                    http = build();
                    client = http;
                }
            }
        }
        return http;
    }

    private CloseableHttpClient build() throws SSLException {
        SSLContext tls = sslContext;
        if (tls == null) {
            try {
                tls = SSLContext.getDefault();
            } catch (NoSuchAlgorithmException e) {
                throw new SSLException("no default TLS context", e);
            }
        }
        HttpClientConnectionManager connections = new NoProxyConnectionManagerBuilder()
                .setDnsResolver(new CheckedDnsResolver(policy, resolver, connectTimeoutMillis))
                .setTlsSocketStrategy(new DefaultClientTlsStrategy(tls, HostnameVerificationPolicy.BUILTIN, null))
                .setConnectionFactory(ManagedHttpClientConnectionFactory.builder()
                        .http1Config(Http1Config.custom()
                                .setMaxLineLength(MAX_LINE)
                                .setMaxHeaderCount(MAX_HEADER_LINES)
                                .build())
                        .build())
                .setDefaultConnectionConfig(ConnectionConfig.custom()
                        .setConnectTimeout(Timeout.ofMilliseconds(connectTimeoutMillis))
                        .build())
                .setMaxConnTotal(MAX_CONNECTIONS)
                .setMaxConnPerRoute(MAX_CONNECTIONS)
                .build();
        return HttpClients.custom()
                .setConnectionManager(connections)
                .setDefaultRequestConfig(BASE_CONFIG)
                .setConnectionReuseStrategy((request, response, context) -> false)
                .disableRedirectHandling()
                .disableAutomaticRetries()
                .disableContentCompression()
                .disableCookieManagement()
                .disableAuthCaching()
                .disableConnectionState()
                .disableDefaultUserAgent()
                .build();
    }

    /**
     * The pooling manager with plain sockets that never go through a proxy ({@link Proxy#NO_PROXY}: a
     * {@code socksProxyHost} system property would otherwise be honoured by {@code new Socket()}); everything else
     * as the standard builder makes it. The operator and this hook are marked internal in HttpClient 5.6: check them
     * when upgrading (DnsRebindingTest and the fetcher's tests fail if the resolver is no longer used).
     */
    private static final class NoProxyConnectionManagerBuilder extends PoolingHttpClientConnectionManagerBuilder {
        @Override
        protected HttpClientConnectionOperator createConnectionOperator(
                SchemePortResolver schemePortResolver, DnsResolver dnsResolver, TlsSocketStrategy tlsSocketStrategy) {
            return new DefaultHttpClientConnectionOperator(
                    proxy -> new Socket(Proxy.NO_PROXY),
                    schemePortResolver,
                    dnsResolver,
                    RegistryBuilder.<TlsSocketStrategy>create()
                            .register(URIScheme.HTTPS.id, tlsSocketStrategy)
                            .build());
        }
    }

    /** Releases the connection pool; a later request builds a new client. */
    @Override
    public synchronized void close() {
        CloseableHttpClient http = client;
        client = null;
        if (http != null) {
            http.close(CloseMode.IMMEDIATE);
        }
    }

    /**
     * {@code duration}, checked to be a usable timeout: positive and at most {@link Integer#MAX_VALUE} ms.
     *
     * @throws IllegalArgumentException naming {@code name} otherwise
     */
    public static Duration positive(Duration duration, String name) {
        if (duration == null || duration.isNegative() || duration.isZero() || duration.toMillis() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(name + " must be positive");
        }
        return duration;
    }

    static long remainingMillis(long deadlineNanos) {
        return (deadlineNanos - System.nanoTime()) / 1_000_000;
    }

    private static ScheduledThreadPoolExecutor watchdog() {
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "http-deadline");
            t.setDaemon(true);
            return t;
        });
        executor.setRemoveOnCancelPolicy(true);
        executor.setKeepAliveTime(30, TimeUnit.SECONDS);
        executor.allowCoreThreadTimeOut(true);
        return executor;
    }

    /** Configuration of a {@link GuardedHttpClient}: no host and no private address unless allowed. */
    public static final class Builder {

        private final TargetPolicy.Builder policy;
        private Duration connectTimeout = Duration.ofSeconds(5);
        private HostResolver resolver = HostResolver.SYSTEM;
        private SSLContext sslContext;

        private Builder(String label) {
            this.policy = TargetPolicy.builder(label);
        }

        /** See {@link TargetPolicy.Builder#allowHosts}. */
        public Builder allowHosts(Collection<String> hosts) {
            policy.allowHosts(hosts);
            return this;
        }

        /** Lets hosts resolve to loopback, private, link-local and other non-public addresses (tests, intranets). */
        public Builder allowPrivateAddresses(boolean allow) {
            policy.allowPrivateAddresses(allow);
            return this;
        }

        /** Whether {@code http://} URLs are allowed besides {@code https://} (default: yes). */
        public Builder allowPlainHttp(boolean allow) {
            policy.allowPlainHttp(allow);
            return this;
        }

        /** Bounds each TCP connection attempt and the TLS handshake. */
        public Builder connectTimeout(Duration connectTimeout) {
            this.connectTimeout = positive(connectTimeout, "connectTimeout");
            return this;
        }

        /** Replaces DNS resolution (tests). IP literals never go through it. */
        public Builder resolver(HostResolver resolver) {
            this.resolver = resolver;
            return this;
        }

        /** Replaces the default TLS context (tests); not serialized, the default returns after a round trip. */
        public Builder sslContext(SSLContext sslContext) {
            this.sslContext = sslContext;
            return this;
        }

        /** Replaces the public-address rule (tests). */
        Builder publicAddresses(TargetPolicy.AddressFilter filter) {
            policy.publicAddresses(filter);
            return this;
        }

        public GuardedHttpClient build() {
            return new GuardedHttpClient(this);
        }
    }
}
