package dev.biometry.net;

/**
 * A URL that must not be contacted: malformed, a scheme or host that is not allowed, credentials in it, or a host
 * resolving to a non-public address while those are not allowed. Thrown before anything is sent. The message names
 * the URL without user info, query or fragment.
 */
public class TargetRefusedException extends Exception {

    private static final long serialVersionUID = 1L;

    public TargetRefusedException(String message) {
        super(message);
    }
}
