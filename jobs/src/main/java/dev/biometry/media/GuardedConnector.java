package dev.biometry.media;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.Serializable;
import java.net.InetAddress;
import java.net.InetSocketAddress;
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
import java.util.concurrent.ExecutionException;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * Opens connections to {@code http(s)://} URLs without becoming an SSRF tool; shared by {@link HttpMediaFetcher}
 * and {@link HttpPoster}.
 *
 * <ul>
 *   <li>Only allow-listed hosts are contacted: exact names ({@code media.example.com}, {@code 127.0.0.1}) or
 *       {@code *.example.com} patterns (any subdomain, not the apex). The list is empty by default, so by default
 *       every URL is refused. Plain {@code http} can be refused too.
 *   <li>Every address the host resolves to must be public (see {@link NetworkAddresses}) unless private addresses
 *       are allowed; the socket then connects to one of exactly those checked addresses, so a DNS answer that
 *       changes between the check and the connection (DNS rebinding) is never used. HTTPS still sends the host
 *       name as SNI and verifies the certificate against the host name.
 *   <li>The host name lookup is bounded by the caller's deadline (it runs on a bounded pool, see
 *       {@link TimeBoxed}); connecting to each address is bounded by the connect timeout and by that deadline.
 * </ul>
 *
 * <p>Messages name URLs without user info, query or fragment, which may carry secrets. The configuration is
 * serializable; the TLS socket factory is created on first use.
 */
public final class GuardedConnector implements Serializable {

    private static final long serialVersionUID = 1L;

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

    /** The host could not be resolved or none of its addresses accepted a connection; the message says which. */
    static final class ConnectFailedException extends IOException {
        private static final long serialVersionUID = 1L;

        ConnectFailedException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final String label;
    private final Set<String> exactHosts;
    private final List<String> hostSuffixes;
    private final boolean allowPrivateAddresses;
    private final boolean allowPlainHttp;
    private final long connectTimeoutMillis;
    private final HostResolver resolver;

    private transient volatile SSLSocketFactory sslSocketFactory;

    private GuardedConnector(Builder builder) {
        this.label = builder.label;
        this.exactHosts = Set.copyOf(builder.exactHosts);
        this.hostSuffixes = List.copyOf(builder.hostSuffixes);
        this.allowPrivateAddresses = builder.allowPrivateAddresses;
        this.allowPlainHttp = builder.allowPlainHttp;
        this.connectTimeoutMillis = builder.connectTimeout.toMillis();
        this.resolver = builder.resolver;
        this.sslSocketFactory = builder.sslSocketFactory;
    }

    /** @param label names the URLs in messages, e.g. {@code "media URL"} */
    static Builder builder(String label) {
        return new Builder(label);
    }

    /**
     * Parses {@code uriText}, percent-encoding non-ASCII characters (so the request line stays ASCII) and giving an
     * empty path the path {@code /}.
     */
    URI parse(String uriText) throws TargetRefusedException {
        if (uriText == null) {
            throw new TargetRefusedException("missing " + label);
        }
        try {
            URI uri = new URI(new URI(uriText).toASCIIString());
            if (!uri.isOpaque() && uri.getRawAuthority() != null
                    && (uri.getRawPath() == null || uri.getRawPath().isEmpty())) {
                // "http://host?q" requests "/?q"; an empty path would also break relative redirects.
                uri = new URI(uri.getScheme() + "://" + uri.getRawAuthority() + "/"
                        + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery()));
            }
            return uri;
        } catch (URISyntaxException | IllegalArgumentException e) {
            throw new TargetRefusedException("invalid " + label + " " + redact(uriText));
        }
    }

    /**
     * Checks what needs no network: scheme, user info, allow-list and, for IP literals, the address rules. Returns
     * the host without IPv6 brackets.
     */
    String check(URI uri) throws TargetRefusedException {
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("https") && !(allowPlainHttp && scheme.equals("http"))) {
            throw new TargetRefusedException(label + " scheme '" + scheme + "' is not allowed (only "
                    + (allowPlainHttp ? "http and https" : "https") + "): " + redact(uri));
        }
        if (uri.getRawUserInfo() != null) {
            throw new TargetRefusedException("credentials in " + label + "s are not supported: " + redact(uri));
        }
        String host = uri.getHost();
        if (host == null || host.isEmpty()) {
            throw new TargetRefusedException(label + " has no valid host: " + redact(uri));
        }
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        if (!isAllowListed(host)) {
            throw new TargetRefusedException("host " + host + " is not allow-listed: " + redact(uri));
        }
        if (isIpLiteral(host)) {
            try {
                checkAddresses(host, InetAddress.getAllByName(host), uri);
            } catch (UnknownHostException e) {
                throw new TargetRefusedException(label + " has no valid host: " + redact(uri));
            }
        }
        return host;
    }

    /** Whether {@code host} (no brackets) matches an exact entry or a {@code *.suffix} pattern. */
    boolean isAllowListed(String host) {
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

    /**
     * Checks {@code uri}, resolves its host, checks every address and connects to one of them, layering TLS for
     * {@code https}. The caller closes the socket.
     *
     * @throws TargetRefusedException before any connection, when the URL or an address is not allowed
     * @throws ConnectFailedException when the host does not resolve or no address accepts a connection
     * @throws SocketTimeoutException when the deadline passes while connecting or in the TLS handshake
     * @throws SSLException when the TLS handshake fails (certificate, protocol)
     */
    Socket open(URI uri, long deadlineNanos) throws TargetRefusedException, IOException {
        String host = check(uri);
        InetAddress[] addresses = resolveAndCheck(host, uri, deadlineNanos);
        boolean https = uri.getScheme().equalsIgnoreCase("https");
        int port = uri.getPort() >= 0 ? uri.getPort() : https ? 443 : 80;
        Socket socket = connect(addresses, port, deadlineNanos, uri);
        return https ? startTls(socket, host, port, deadlineNanos) : socket;
    }

    private InetAddress[] resolveAndCheck(String host, URI uri, long deadlineNanos)
            throws TargetRefusedException, IOException {
        InetAddress[] addresses;
        try {
            addresses = isIpLiteral(host) ? InetAddress.getAllByName(host) : resolve(host, uri, deadlineNanos);
        } catch (UnknownHostException e) {
            throw new ConnectFailedException("cannot resolve host " + host + ": " + redact(uri), e);
        }
        if (addresses == null || addresses.length == 0) {
            throw new ConnectFailedException("cannot resolve host " + host + ": " + redact(uri), null);
        }
        checkAddresses(host, addresses, uri);
        return addresses;
    }

    /**
     * Resolves {@code host} within the caller's deadline: the system resolver cannot be interrupted and may wait
     * far longer than a download is allowed (unanswered DNS servers, retries), so the lookup runs on a bounded pool
     * and is abandoned when the deadline passes.
     *
     * @throws SocketTimeoutException when the deadline passes before the lookup returns
     */
    private InetAddress[] resolve(String host, URI uri, long deadlineNanos) throws IOException {
        try {
            return TimeBoxed.HOST_LOOKUPS.call(() -> resolver.resolve(host), deadlineNanos);
        } catch (TimeBoxed.Overrun e) {
            if (e.rejected) {
                throw new ConnectFailedException("too many host lookups in flight to resolve " + host + ": "
                        + redact(uri), e);
            }
            SocketTimeoutException timeout = new SocketTimeoutException(
                    "resolving host " + host + " did not finish before the deadline: " + redact(uri));
            timeout.initCause(e);
            throw timeout;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownHostException unknown) {
                throw unknown;
            }
            throw new ConnectFailedException("cannot resolve host " + host + ": " + redact(uri), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while resolving host " + host);
        }
    }

    private void checkAddresses(String host, InetAddress[] addresses, URI uri) throws TargetRefusedException {
        if (allowPrivateAddresses) {
            return;
        }
        for (InetAddress address : addresses) {
            if (!NetworkAddresses.isPublic(address)) {
                throw new TargetRefusedException("host " + host
                        + " resolves to a private, loopback or otherwise non-public address: " + redact(uri));
            }
        }
    }

    /** Connects to the first of the (already checked) addresses that answers. */
    private Socket connect(InetAddress[] addresses, int port, long deadlineNanos, URI uri) throws IOException {
        IOException last = null;
        long lastTimeout = 0;
        for (InetAddress address : addresses) {
            long remaining = remainingMillis(deadlineNanos);
            if (remaining <= 0) {
                break;
            }
            Socket socket = new Socket(Proxy.NO_PROXY);
            lastTimeout = Math.min(connectTimeoutMillis, remaining);
            try {
                socket.connect(new InetSocketAddress(address, port), (int) lastTimeout);
                return socket;
            } catch (IOException e) {
                closeQuietly(socket);
                last = e;
            }
        }
        if (last == null) {
            throw new SocketTimeoutException("total timeout reached");
        }
        if (last instanceof SocketTimeoutException) {
            throw new ConnectFailedException("connect timed out after " + lastTimeout + " ms: " + redact(uri), last);
        }
        throw new ConnectFailedException("cannot connect to " + redact(uri) + ": " + last.getMessage(), last);
    }

    /**
     * Layers TLS over the socket already connected to the checked address. The host name, not the address, is
     * given to the TLS engine: it is sent as SNI and the certificate is verified against it.
     */
    private Socket startTls(Socket plain, String host, int port, long deadlineNanos) throws IOException {
        SSLSocket ssl;
        try {
            ssl = (SSLSocket) sslSocketFactory().createSocket(plain, host, port, true);
        } catch (IOException e) {
            closeQuietly(plain);
            throw e;
        }
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

    static long remainingMillis(long deadlineNanos) {
        return (deadlineNanos - System.nanoTime()) / 1_000_000;
    }

    static void closeQuietly(Socket socket) {
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
    public static String redact(URI uri) {
        String authority = uri.getRawAuthority() == null ? "" : uri.getRawAuthority();
        authority = authority.substring(authority.lastIndexOf('@') + 1);
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        return truncate(uri.getScheme() + "://" + authority + path);
    }

    /** The same for text that may not even be a URI. */
    public static String redact(String uriText) {
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

    /** Configuration of a {@link GuardedConnector}; every setting has a safe default except plain http. */
    static final class Builder {

        private final String label;
        private final Set<String> exactHosts = new LinkedHashSet<>();
        private final List<String> hostSuffixes = new ArrayList<>();
        private boolean allowPrivateAddresses;
        private boolean allowPlainHttp = true;
        private Duration connectTimeout = Duration.ofSeconds(5);
        private HostResolver resolver = SystemResolver.INSTANCE;
        private SSLSocketFactory sslSocketFactory;

        private Builder(String label) {
            this.label = label;
        }

        /**
         * Adds hosts that may be contacted: exact names or IP literals, or {@code *.example.com} for any subdomain
         * of {@code example.com} (not {@code example.com} itself). A wildcard needs at least two labels after
         * {@code *.}; {@code *} alone and {@code *.com} are rejected.
         */
        Builder allowHosts(Collection<String> hosts) {
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

        Builder allowPrivateAddresses(boolean allow) {
            this.allowPrivateAddresses = allow;
            return this;
        }

        Builder allowPlainHttp(boolean allow) {
            this.allowPlainHttp = allow;
            return this;
        }

        Builder connectTimeout(Duration connectTimeout) {
            this.connectTimeout = connectTimeout;
            return this;
        }

        Builder resolver(HostResolver resolver) {
            this.resolver = resolver;
            return this;
        }

        Builder sslSocketFactory(SSLSocketFactory sslSocketFactory) {
            this.sslSocketFactory = sslSocketFactory;
            return this;
        }

        GuardedConnector build() {
            return new GuardedConnector(this);
        }
    }
}
