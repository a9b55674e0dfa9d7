package dev.biometry.net;

import java.io.Serializable;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Turns a host name into addresses for {@link GuardedHttpClient}: the system resolver ({@link #SYSTEM}) unless a
 * test replaces it. It may block for as long as it likes; the client bounds the wait (see {@link TimeBoxed}).
 */
@FunctionalInterface
public interface HostResolver extends Serializable {

    /** {@link InetAddress#getAllByName}. */
    HostResolver SYSTEM = SystemResolver.INSTANCE;

    InetAddress[] resolve(String host) throws UnknownHostException;
}

/** The system resolver, an enum so that it stays a singleton through serialization. */
enum SystemResolver implements HostResolver {
    INSTANCE;

    @Override
    public InetAddress[] resolve(String host) throws UnknownHostException {
        return InetAddress.getAllByName(host);
    }
}
