package dev.biometry.net;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetAddress;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.util.concurrent.ExecutionException;
import org.apache.hc.client5.http.DnsResolver;

/**
 * The only resolver of {@link GuardedHttpClient}'s connections: it answers with addresses it has checked, so the
 * client connects to exactly those and nothing looks the host up a second time (no DNS rebinding between a check and
 * the connection). For each lookup it
 *
 * <ul>
 *   <li>refuses a host that is not allow-listed (the client checks URLs before sending; this is the second guard);
 *   <li>resolves the name with the {@link HostResolver} on a bounded pool ({@link TimeBoxed#HOST_LOOKUPS}), abandoned
 *       at the deadline of the request in progress (IP literals need no lookup);
 *   <li>refuses the whole answer when any address is not public, unless private addresses are allowed.
 * </ul>
 *
 * <p>{@link DnsResolver} may only throw {@link UnknownHostException}: a refusal, a timeout or a failed lookup travels
 * as a {@link Failure} carrying the real exception, which {@link GuardedHttpClient} throws in its place.
 */
final class CheckedDnsResolver implements DnsResolver {

    /** The request in progress on this thread: its redacted URL (for messages) and its deadline. */
    record Call(String where, long deadlineNanos) {}

    /**
     * Set by {@link GuardedHttpClient} around each exchange. The classic client connects on the thread that sends the
     * request, so the lookup runs on the thread that set it.
     */
    private static final ThreadLocal<Call> CURRENT = new ThreadLocal<>();

    /** Why a lookup gave no usable addresses: a {@link TargetRefusedException} or an {@link IOException}. */
    static final class Failure extends UnknownHostException {
        private static final long serialVersionUID = 1L;

        final Exception reason;

        Failure(Exception reason) {
            super(reason.getMessage());
            this.reason = reason;
            initCause(reason);
        }
    }

    private final TargetPolicy policy;
    private final HostResolver resolver;
    private final long defaultTimeoutMillis;

    /** @param defaultTimeoutMillis bounds a lookup made outside {@link #during} (none is, but a bound is kept) */
    CheckedDnsResolver(TargetPolicy policy, HostResolver resolver, long defaultTimeoutMillis) {
        this.policy = policy;
        this.resolver = resolver;
        this.defaultTimeoutMillis = defaultTimeoutMillis;
    }

    /** Marks {@code call} as the request in progress on this thread until {@link #done()}. */
    static void during(Call call) {
        CURRENT.set(call);
    }

    static void done() {
        CURRENT.remove();
    }

    @Override
    public InetAddress[] resolve(String host) throws UnknownHostException {
        Call call = CURRENT.get();
        if (call == null) {
            call = new Call(host, System.nanoTime() + defaultTimeoutMillis * 1_000_000);
        }
        try {
            return checkedAddresses(TargetPolicy.withoutBrackets(host), call);
        } catch (TargetRefusedException | IOException e) {
            throw new Failure(e);
        }
    }

    private InetAddress[] checkedAddresses(String host, Call call) throws TargetRefusedException, IOException {
        if (!policy.isAllowListed(host)) {
            throw new TargetRefusedException("host " + host + " is not allow-listed: " + call.where());
        }
        InetAddress[] addresses;
        try {
            addresses = TargetPolicy.isIpLiteral(host) ? InetAddress.getAllByName(host) : lookUp(host, call);
        } catch (UnknownHostException e) {
            throw new GuardedHttpClient.ConnectFailedException("cannot resolve host " + host + ": " + call.where(), e);
        }
        if (addresses == null || addresses.length == 0) {
            throw new GuardedHttpClient.ConnectFailedException(
                    "cannot resolve host " + host + ": " + call.where(), null);
        }
        addresses = addresses.clone();
        policy.checkAddresses(host, addresses, call.where());
        return addresses;
    }

    /**
     * Resolves {@code host} within the deadline: the system resolver cannot be interrupted and may wait far longer
     * than a request is allowed (unanswered DNS servers, retries), so the lookup runs on a bounded pool and is
     * abandoned when the deadline passes.
     */
    private InetAddress[] lookUp(String host, Call call) throws IOException {
        try {
            return TimeBoxed.HOST_LOOKUPS.call(() -> resolver.resolve(host), call.deadlineNanos());
        } catch (TimeBoxed.Overrun e) {
            if (e.rejected) {
                throw new GuardedHttpClient.ConnectFailedException(
                        "too many host lookups in flight to resolve " + host + ": " + call.where(), e);
            }
            SocketTimeoutException timeout = new SocketTimeoutException(
                    "resolving host " + host + " did not finish before the deadline: " + call.where());
            timeout.initCause(e);
            throw timeout;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownHostException unknown) {
                throw unknown;
            }
            throw new GuardedHttpClient.ConnectFailedException(
                    "cannot resolve host " + host + ": " + call.where(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while resolving host " + host);
        }
    }

    /** Only Kerberos/SPNEGO asks for this, and the client has no authentication: no lookup. */
    @Override
    public String resolveCanonicalHostname(String host) {
        return host;
    }
}
