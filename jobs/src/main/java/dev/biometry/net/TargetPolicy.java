package dev.biometry.net;

import java.io.Serializable;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Which {@code http(s)://} URLs may be contacted, decided without the network except for the addresses a host
 * resolves to: the scheme (plain {@code http} can be refused), no user info, an allow-list of hosts, and public
 * addresses only (see {@link NetworkAddresses}) unless private ones are allowed.
 *
 * <p>The allow-list holds exact names ({@code media.example.com}, {@code 127.0.0.1}) or {@code *.example.com}
 * patterns (any subdomain, not the apex). It is empty by default, so by default every URL is refused.
 *
 * <p>Messages name URLs without user info, query or fragment, which may carry secrets ({@link #redact}).
 */
public final class TargetPolicy implements Serializable {

    private static final long serialVersionUID = 1L;

    private static final int MAX_URL_IN_MESSAGE = 300;

    private final String label;
    private final Set<String> exactHosts;
    private final List<String> hostSuffixes;
    private final boolean allowPrivateAddresses;
    private final boolean allowPlainHttp;
    private final AddressFilter publicAddresses;

    /** Tells public addresses from the others; {@link NetworkAddresses} unless a test replaces it. */
    @FunctionalInterface
    interface AddressFilter extends Serializable {
        boolean isPublic(InetAddress address);
    }

    private enum StandardFilter implements AddressFilter {
        INSTANCE;

        @Override
        public boolean isPublic(InetAddress address) {
            return NetworkAddresses.isPublic(address);
        }
    }

    private TargetPolicy(Builder builder) {
        this.label = builder.label;
        this.exactHosts = Set.copyOf(builder.exactHosts);
        this.hostSuffixes = List.copyOf(builder.hostSuffixes);
        this.allowPrivateAddresses = builder.allowPrivateAddresses;
        this.allowPlainHttp = builder.allowPlainHttp;
        this.publicAddresses = builder.publicAddresses;
    }

    /** @param label names the URLs in messages, e.g. {@code "media URL"} */
    public static Builder builder(String label) {
        return new Builder(label);
    }

    /**
     * Parses {@code uriText}, percent-encoding non-ASCII characters (so the request line stays ASCII) and giving an
     * empty path the path {@code /}.
     */
    public URI parse(String uriText) throws TargetRefusedException {
        if (uriText == null) {
            throw new TargetRefusedException("missing " + label);
        }
        try {
            URI uri = new URI(new URI(uriText).toASCIIString());
            if (!uri.isOpaque()
                    && uri.getRawAuthority() != null
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
    public String check(URI uri) throws TargetRefusedException {
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
        host = withoutBrackets(host);
        if (!isAllowListed(host)) {
            throw new TargetRefusedException("host " + host + " is not allow-listed: " + redact(uri));
        }
        if (isIpLiteral(host)) {
            try {
                checkAddresses(host, InetAddress.getAllByName(host), redact(uri));
            } catch (UnknownHostException e) {
                throw new TargetRefusedException(label + " has no valid host: " + redact(uri));
            }
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

    /**
     * Refuses {@code addresses} of {@code host} unless every one is public or private addresses are allowed.
     *
     * @param where the redacted URL, for the message
     */
    void checkAddresses(String host, InetAddress[] addresses, String where) throws TargetRefusedException {
        if (allowPrivateAddresses) {
            return;
        }
        for (InetAddress address : addresses) {
            if (!publicAddresses.isPublic(address)) {
                throw new TargetRefusedException(
                        "host " + host + " resolves to a private, loopback or otherwise non-public address: " + where);
            }
        }
    }

    static boolean isIpLiteral(String host) {
        return host.indexOf(':') >= 0 || host.chars().allMatch(c -> c == '.' || (c >= '0' && c <= '9'));
    }

    static String withoutBrackets(String host) {
        return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }

    private static String normalizeHost(String host) {
        String name = withoutBrackets(host.trim().toLowerCase(Locale.ROOT));
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
                text = text.substring(0, authorityStart + 2)
                        + authority.substring(at + 1)
                        + (authorityEnd < 0 ? "" : text.substring(authorityEnd));
            }
        }
        return truncate(text);
    }

    private static String truncate(String text) {
        return text.length() <= MAX_URL_IN_MESSAGE ? text : text.substring(0, MAX_URL_IN_MESSAGE) + "...";
    }

    /** Configuration of a {@link TargetPolicy}; every setting has a safe default except plain http. */
    public static final class Builder {

        private final String label;
        private final Set<String> exactHosts = new LinkedHashSet<>();
        private final List<String> hostSuffixes = new ArrayList<>();
        private boolean allowPrivateAddresses;
        private boolean allowPlainHttp = true;
        private AddressFilter publicAddresses = StandardFilter.INSTANCE;

        private Builder(String label) {
            this.label = label;
        }

        /**
         * Adds hosts that may be contacted: exact names or IP literals, or {@code *.example.com} for any subdomain
         * of {@code example.com} (not {@code example.com} itself). A wildcard needs at least two labels after
         * {@code *.}; {@code *} alone and {@code *.com} are rejected.
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

        /** Lets hosts resolve to loopback, private, link-local and other non-public addresses (tests, intranets). */
        public Builder allowPrivateAddresses(boolean allow) {
            this.allowPrivateAddresses = allow;
            return this;
        }

        public Builder allowPlainHttp(boolean allow) {
            this.allowPlainHttp = allow;
            return this;
        }

        /** Replaces the public-address rule (tests: a loopback address standing in for a public one). */
        Builder publicAddresses(AddressFilter filter) {
            this.publicAddresses = filter;
            return this;
        }

        public TargetPolicy build() {
            return new TargetPolicy(this);
        }
    }
}
