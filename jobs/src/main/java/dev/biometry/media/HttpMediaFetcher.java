package dev.biometry.media;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolException;
import java.net.Proxy;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * Fetches {@code http://} and {@code https://} media without becoming an SSRF tool.
 *
 * <ul>
 *   <li>Only allow-listed hosts are contacted: exact names ({@code media.example.com}, {@code 127.0.0.1}) or
 *       {@code *.example.com} patterns (any subdomain, not the apex). The list is empty by default, so by default
 *       every remote URL is refused.
 *   <li>Every address the host resolves to must be public (see {@link NetworkAddresses}) unless private addresses
 *       are allowed; the socket then connects to one of exactly those checked addresses, so a DNS answer that
 *       changes between the check and the connection (DNS rebinding) is never used. HTTPS still sends the host
 *       name as SNI and verifies the certificate against the host name.
 *   <li>Redirects are followed by hand, each hop re-checked (scheme, allow-list, addresses), at most
 *       {@code maxRedirects} of them.
 *   <li>The body is read up to {@code maxBytes}; a larger declared {@code Content-Length} is refused before reading.
 *   <li>One deadline bounds the whole fetch, redirects included; connecting to each address is also bounded by the
 *       connect timeout.
 * </ul>
 *
 * <p>Errors are {@link MediaException}s: refused URLs {@code FORBIDDEN} (Oz 4), 404/410 {@code NOT_FOUND} (10),
 * bodies over the limit {@code TOO_LARGE} (4), everything the remote side did wrong {@code REMOTE} (11). Messages
 * name the URL without user info, query or fragment, which may carry secrets.
 *
 * <p>Speaks HTTP/1.1 only, one request per connection, no compression, no proxies. The configuration is
 * serializable; the TLS socket factory is created on first use.
 */
public final class HttpMediaFetcher implements Serializable {

    private static final long serialVersionUID = 1L;

    public static final int DEFAULT_MAX_REDIRECTS = 3;
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(20);
    public static final long DEFAULT_MAX_BYTES = 10L * 1024 * 1024;

    private static final int MAX_URL_IN_MESSAGE = 300;

    /** Turns a host name into addresses; the system resolver unless a test replaces it. */
    @FunctionalInterface
    interface HostResolver extends Serializable {
        InetAddress[] resolve(String host) throws UnknownHostException;
    }

    private enum SystemResolver implements HostResolver {
        INSTANCE;

        @Override
        public InetAddress[] resolve(String host) throws UnknownHostException {
            return InetAddress.getAllByName(host);
        }
    }

    private final Set<String> exactHosts;
    private final List<String> hostSuffixes;
    private final boolean allowPrivateAddresses;
    private final int maxRedirects;
    private final long connectTimeoutMillis;
    private final long timeoutMillis;
    private final long maxBytes;
    private final HostResolver resolver;

    private transient volatile SSLSocketFactory sslSocketFactory;

    private HttpMediaFetcher(Builder builder) {
        this.exactHosts = Set.copyOf(builder.exactHosts);
        this.hostSuffixes = List.copyOf(builder.hostSuffixes);
        this.allowPrivateAddresses = builder.allowPrivateAddresses;
        this.maxRedirects = builder.maxRedirects;
        this.connectTimeoutMillis = builder.connectTimeout.toMillis();
        this.timeoutMillis = builder.timeout.toMillis();
        this.maxBytes = builder.maxBytes;
        this.resolver = builder.resolver;
        this.sslSocketFactory = builder.sslSocketFactory;
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
        long deadlineNanos = System.nanoTime() + timeoutMillis * 1_000_000;
        URI uri = original;
        int redirects = 0;
        try {
            while (true) {
                String host = checkUrl(uri);
                InetAddress[] addresses = resolveAndCheck(host, uri);
                Outcome outcome = exchange(uri, host, addresses, deadlineNanos);
                if (outcome.body != null) {
                    return outcome.body;
                }
                if (redirects >= maxRedirects) {
                    throw new MediaException(MediaException.Kind.REMOTE,
                            "too many redirects (more than " + maxRedirects + ") fetching " + redact(uri));
                }
                uri = redirectTarget(uri, outcome.location);
                redirects++;
            }
        } catch (MediaException e) {
            if (redirects == 0) {
                throw e;
            }
            throw new MediaException(e.kind(), e.getMessage() + " (redirected from " + redact(original) + ")",
                    e.getCause());
        }
    }

    private URI parse(String uriText) throws MediaException {
        if (uriText == null) {
            throw new MediaException(MediaException.Kind.FORBIDDEN, "missing media URL");
        }
        try {
            // toASCIIString percent-encodes non-ASCII characters so the request line stays ASCII.
            URI uri = new URI(new URI(uriText).toASCIIString());
            if (!uri.isOpaque() && uri.getRawAuthority() != null
                    && (uri.getRawPath() == null || uri.getRawPath().isEmpty())) {
                // "http://host?q" requests "/?q"; an empty path would also break relative redirects.
                uri = new URI(uri.getScheme() + "://" + uri.getRawAuthority() + "/"
                        + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery()));
            }
            return uri;
        } catch (URISyntaxException | IllegalArgumentException e) {
            throw new MediaException(MediaException.Kind.FORBIDDEN, "invalid media URL " + redact(uriText));
        }
    }

    /** Checks scheme, user info and allow-list; returns the host without IPv6 brackets. */
    private String checkUrl(URI uri) throws MediaException {
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new MediaException(MediaException.Kind.FORBIDDEN,
                    "media URL scheme '" + scheme + "' is not allowed (only http and https): " + redact(uri));
        }
        if (uri.getRawUserInfo() != null) {
            throw new MediaException(MediaException.Kind.FORBIDDEN,
                    "credentials in media URLs are not supported: " + redact(uri));
        }
        String host = uri.getHost();
        if (host == null || host.isEmpty()) {
            throw new MediaException(MediaException.Kind.FORBIDDEN, "media URL has no valid host: " + redact(uri));
        }
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        if (!isAllowListed(host)) {
            throw new MediaException(MediaException.Kind.FORBIDDEN,
                    "host " + host + " is not allow-listed: " + redact(uri));
        }
        return host;
    }

    /** Whether {@code host} (no brackets) matches an exact entry or a {@code *.suffix} pattern. */
    public boolean isAllowListed(String host) {
        String name = normalizeHost(host);
        if (exactHosts.contains(name)) {
            return true;
        }
        for (String suffix : hostSuffixes) {
            if (name.endsWith(suffix) && name.length() > suffix.length()) {
                return true;
            }
        }
        return false;
    }

    private InetAddress[] resolveAndCheck(String host, URI uri) throws MediaException {
        InetAddress[] addresses;
        try {
            addresses = isIpLiteral(host) ? InetAddress.getAllByName(host) : resolver.resolve(host);
        } catch (UnknownHostException e) {
            throw new MediaException(MediaException.Kind.REMOTE, "cannot resolve host " + host + ": " + redact(uri), e);
        }
        if (addresses == null || addresses.length == 0) {
            throw new MediaException(MediaException.Kind.REMOTE, "cannot resolve host " + host + ": " + redact(uri));
        }
        if (!allowPrivateAddresses) {
            for (InetAddress address : addresses) {
                if (!NetworkAddresses.isPublic(address)) {
                    throw new MediaException(MediaException.Kind.FORBIDDEN, "host " + host
                            + " resolves to a private, loopback or otherwise non-public address: " + redact(uri));
                }
            }
        }
        return addresses;
    }

    /** What one request produced: a 2xx body or a redirect location. */
    private record Outcome(byte[] body, String location) {}

    private Outcome exchange(URI uri, String host, InetAddress[] addresses, long deadlineNanos) throws MediaException {
        boolean https = uri.getScheme().equalsIgnoreCase("https");
        int port = uri.getPort() >= 0 ? uri.getPort() : https ? 443 : 80;
        Socket socket = connect(addresses, port, deadlineNanos, uri);
        try {
            if (https) {
                socket = startTls(socket, host, port, deadlineNanos);
            }
            String target = uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
            String hostHeader = uri.getHost() + (uri.getPort() >= 0 ? ":" + uri.getPort() : "");
            Http11Wire.writeRequest(new BufferedOutputStream(socket.getOutputStream()), target, hostHeader);
            InputStream in = new BufferedInputStream(new Http11Wire.DeadlineInputStream(socket, deadlineNanos));
            Http11Wire.Head head = Http11Wire.readHead(in);
            int status = head.status();
            if (status >= 200 && status < 300) {
                return new Outcome(Http11Wire.readBody(in, head, maxBytes), null);
            }
            if (status == 301 || status == 302 || status == 303 || status == 307 || status == 308) {
                String location = head.first("location");
                if (location == null || location.isBlank()) {
                    throw new MediaException(MediaException.Kind.REMOTE,
                            "HTTP " + status + " without a Location header from " + redact(uri));
                }
                return new Outcome(null, location);
            }
            if (status == 404 || status == 410) {
                throw new MediaException(MediaException.Kind.NOT_FOUND, "HTTP " + status + ": media not found at "
                        + redact(uri));
            }
            throw new MediaException(MediaException.Kind.REMOTE, "HTTP " + status + " from " + redact(uri));
        } catch (Http11Wire.BodyTooLargeException e) {
            String size = e.declared >= 0
                    ? " declares " + e.declared + " bytes; the limit is "
                    : " is larger than the limit of ";
            throw new MediaException(MediaException.Kind.TOO_LARGE, "media " + redact(uri) + size + maxBytes + " bytes");
        } catch (SocketTimeoutException e) {
            throw timeout(uri, e);
        } catch (SSLException e) {
            throw new MediaException(MediaException.Kind.REMOTE,
                    "TLS failure fetching " + redact(uri) + ": " + e.getMessage(), e);
        } catch (ProtocolException | EOFException e) {
            throw new MediaException(MediaException.Kind.REMOTE,
                    "malformed HTTP response from " + redact(uri) + ": " + e.getMessage(), e);
        } catch (IOException e) {
            throw new MediaException(MediaException.Kind.REMOTE,
                    "failed fetching " + redact(uri) + ": " + e.getMessage(), e);
        } finally {
            closeQuietly(socket);
        }
    }

    /** Connects to the first of the (already checked) addresses that answers. */
    private Socket connect(InetAddress[] addresses, int port, long deadlineNanos, URI uri) throws MediaException {
        IOException last = null;
        for (InetAddress address : addresses) {
            long remaining = remainingMillis(deadlineNanos);
            if (remaining <= 0) {
                break;
            }
            Socket socket = new Socket(Proxy.NO_PROXY);
            try {
                socket.connect(new InetSocketAddress(address, port), (int) Math.min(connectTimeoutMillis, remaining));
                return socket;
            } catch (IOException e) {
                closeQuietly(socket);
                last = e;
            }
        }
        if (last == null) {
            throw timeout(uri, null);
        }
        if (last instanceof SocketTimeoutException) {
            throw new MediaException(MediaException.Kind.REMOTE,
                    "connect timed out after " + Math.min(connectTimeoutMillis, timeoutMillis) + " ms: " + redact(uri),
                    last);
        }
        throw new MediaException(MediaException.Kind.REMOTE,
                "cannot connect to " + redact(uri) + ": " + last.getMessage(), last);
    }

    /**
     * Layers TLS over the socket already connected to the checked address. The host name, not the address, is
     * given to the TLS engine: it is sent as SNI and the certificate is verified against it.
     */
    private Socket startTls(Socket plain, String host, int port, long deadlineNanos) throws IOException {
        SSLSocket ssl = (SSLSocket) sslSocketFactory().createSocket(plain, host, port, true);
        SSLParameters parameters = ssl.getSSLParameters();
        parameters.setEndpointIdentificationAlgorithm("HTTPS");
        if (!isIpLiteral(host)) {
            try {
                parameters.setServerNames(List.of(new SNIHostName(host)));
            } catch (IllegalArgumentException e) {
                // not a valid SNI name (e.g. a trailing dot): connect without SNI, the certificate check still applies
            }
        }
        ssl.setSSLParameters(parameters);
        long remaining = remainingMillis(deadlineNanos);
        if (remaining <= 0) {
            closeQuietly(ssl);
            throw new SocketTimeoutException("total timeout reached");
        }
        ssl.setSoTimeout((int) Math.min(Integer.MAX_VALUE, remaining));
        try {
            ssl.startHandshake();
        } catch (IOException e) {
            closeQuietly(ssl);
            throw e;
        }
        return ssl;
    }

    private SSLSocketFactory sslSocketFactory() throws IOException {
        SSLSocketFactory factory = sslSocketFactory;
        if (factory == null) {
            try {
                factory = SSLContext.getDefault().getSocketFactory();
            } catch (NoSuchAlgorithmException e) {
                throw new SSLException("no default TLS context", e);
            }
            sslSocketFactory = factory;
        }
        return factory;
    }

    private URI redirectTarget(URI from, String location) throws MediaException {
        try {
            URI target = from.resolve(new URI(location.trim()));
            return parse(target.toString());
        } catch (URISyntaxException | IllegalArgumentException e) {
            throw new MediaException(MediaException.Kind.REMOTE, "invalid redirect location from " + redact(from));
        } catch (MediaException e) {
            throw new MediaException(MediaException.Kind.FORBIDDEN,
                    "invalid redirect location from " + redact(from), e);
        }
    }

    private MediaException timeout(URI uri, Exception cause) {
        return new MediaException(MediaException.Kind.REMOTE,
                "timed out after " + timeoutMillis + " ms fetching " + redact(uri), cause);
    }

    private static long remainingMillis(long deadlineNanos) {
        return (deadlineNanos - System.nanoTime()) / 1_000_000;
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // nothing to do
        }
    }

    private static boolean isIpLiteral(String host) {
        return host.indexOf(':') >= 0 || host.chars().allMatch(c -> c == '.' || (c >= '0' && c <= '9'));
    }

    private static String normalizeHost(String host) {
        String name = host.trim().toLowerCase(Locale.ROOT);
        if (name.startsWith("[") && name.endsWith("]")) {
            name = name.substring(1, name.length() - 1);
        }
        if (name.endsWith(".")) {
            name = name.substring(0, name.length() - 1);
        }
        return name;
    }

    /** {@code scheme://host[:port]/path}: no user info, query or fragment. */
    static String redact(URI uri) {
        String authority = uri.getRawAuthority() == null ? "" : uri.getRawAuthority();
        authority = authority.substring(authority.lastIndexOf('@') + 1);
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        return truncate(uri.getScheme() + "://" + authority + path);
    }

    /** The same for text that is not even a URI. */
    static String redact(String uriText) {
        String text = uriText;
        int cut = text.length();
        for (char c : new char[] {'?', '#'}) {
            int index = text.indexOf(c);
            if (index >= 0) {
                cut = Math.min(cut, index);
            }
        }
        text = text.substring(0, cut);
        int authorityStart = text.indexOf("//");
        if (authorityStart >= 0) {
            int authorityEnd = text.indexOf('/', authorityStart + 2);
            String authority = text.substring(authorityStart + 2, authorityEnd < 0 ? text.length() : authorityEnd);
            int at = authority.lastIndexOf('@');
            if (at >= 0) {
                text = text.substring(0, authorityStart + 2) + authority.substring(at + 1)
                        + (authorityEnd < 0 ? "" : text.substring(authorityEnd));
            }
        }
        return truncate(text);
    }

    private static String truncate(String text) {
        return text.length() <= MAX_URL_IN_MESSAGE ? text : text.substring(0, MAX_URL_IN_MESSAGE) + "...";
    }

    /** Configuration of an {@link HttpMediaFetcher}; every setting has a safe default. */
    public static final class Builder {

        private final Set<String> exactHosts = new LinkedHashSet<>();
        private final List<String> hostSuffixes = new ArrayList<>();
        private boolean allowPrivateAddresses;
        private int maxRedirects = DEFAULT_MAX_REDIRECTS;
        private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
        private Duration timeout = DEFAULT_TIMEOUT;
        private long maxBytes = DEFAULT_MAX_BYTES;
        private HostResolver resolver = SystemResolver.INSTANCE;
        private SSLSocketFactory sslSocketFactory;

        private Builder() {}

        /**
         * Adds hosts that may be fetched from: exact names or IP literals, or {@code *.example.com} for any
         * subdomain of {@code example.com} (not {@code example.com} itself). A wildcard needs at least two labels
         * after {@code *.}; {@code *} alone and {@code *.com} are rejected.
         */
        public Builder allowHosts(Collection<String> hosts) {
            for (String entry : hosts) {
                String name = normalizeHost(entry);
                if (name.startsWith("*.")) {
                    String suffix = name.substring(1);
                    if (suffix.indexOf('*') >= 0 || suffix.indexOf('.', 1) < 0 || suffix.endsWith(".")) {
                        throw new IllegalArgumentException("allow-list pattern too broad or malformed: " + entry);
                    }
                    hostSuffixes.add(suffix);
                } else if (name.isEmpty() || name.indexOf('*') >= 0) {
                    throw new IllegalArgumentException("malformed allow-list entry: " + entry);
                } else {
                    exactHosts.add(name);
                }
            }
            return this;
        }

        public Builder allowHosts(String... hosts) {
            return allowHosts(List.of(hosts));
        }

        /** Lets hosts resolve to loopback, private, link-local and other non-public addresses (tests, intranets). */
        public Builder allowPrivateAddresses(boolean allow) {
            this.allowPrivateAddresses = allow;
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
            this.connectTimeout = positive(connectTimeout, "connectTimeout");
            return this;
        }

        /** Bounds the whole fetch: resolution aside, every connection, TLS handshake, read and redirect. */
        public Builder timeout(Duration timeout) {
            this.timeout = positive(timeout, "timeout");
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
            this.resolver = resolver;
            return this;
        }

        /** Replaces the default TLS socket factory (tests); not serialized, the default returns after a round trip. */
        Builder sslSocketFactory(SSLSocketFactory sslSocketFactory) {
            this.sslSocketFactory = sslSocketFactory;
            return this;
        }

        public HttpMediaFetcher build() {
            return new HttpMediaFetcher(this);
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
