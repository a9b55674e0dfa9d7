package dev.biometry.testing;

import dev.biometry.net.HostResolver;
import java.net.InetAddress;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A host resolver that answers loopback only after 30 s (or when closed), like a system resolver waiting on an
 * unanswered DNS server: it ignores interrupts, as a blocked lookup does.
 */
public final class HangingResolver implements HostResolver, AutoCloseable {

    private static final long serialVersionUID = 1L;

    private final transient CountDownLatch release = new CountDownLatch(1);
    private final transient AtomicInteger lookups = new AtomicInteger();

    @Override
    public InetAddress[] resolve(String host) {
        lookups.incrementAndGet();
        boolean interrupted = false;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (release.getCount() > 0 && System.nanoTime() < deadline) {
            try {
                release.await(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        return new InetAddress[] {InetAddress.getLoopbackAddress()};
    }

    /** How many lookups were asked for. */
    public int lookups() {
        return lookups.get();
    }

    /** Lets the blocked lookups return. */
    @Override
    public void close() {
        release.countDown();
    }
}
