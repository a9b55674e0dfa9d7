package dev.biometry.net;

import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs a blocking call that the caller cannot bound itself (a DNS lookup, opening and reading a file that may turn
 * out to be a FIFO) on a small bounded pool of daemon threads, and waits for it at most until a deadline. A call
 * that overruns is interrupted (which closes an interruptible channel it reads) and abandoned: the caller goes on
 * with an error. A call stuck in an uninterruptible system call keeps its pool thread until that call returns, so
 * the pool is bounded ({@code threads} threads, {@code queue} waiting calls) and refuses work when full rather than
 * growing.
 */
public final class TimeBoxed {

    /** Host name lookups of media downloads and webhook deliveries. */
    static final TimeBoxed HOST_LOOKUPS = new TimeBoxed("host-lookup", 8, 256);

    private final ThreadPoolExecutor pool;

    public TimeBoxed(String threadName, int threads, int queue) {
        pool = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(queue), r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        });
        pool.allowCoreThreadTimeOut(true);
    }

    /** Why a call did not return a value in time. */
    public static final class Overrun extends Exception {
        private static final long serialVersionUID = 1L;

        /** True when the pool was full and the call never started. */
        public final boolean rejected;

        Overrun(boolean rejected, Throwable cause) {
            super(rejected ? "too many calls in flight" : "deadline passed", cause);
            this.rejected = rejected;
        }
    }

    /**
     * The result of {@code call}, if it returns before {@code deadlineNanos} ({@link System#nanoTime()} scale).
     *
     * @throws Overrun when the deadline passed first (the call is interrupted and abandoned) or the pool is full
     * @throws ExecutionException wrapping what the call threw
     * @throws InterruptedException when the waiting thread is interrupted (the call is interrupted too)
     */
    public <T> T call(Callable<T> call, long deadlineNanos) throws Overrun, ExecutionException, InterruptedException {
        Future<T> future;
        try {
            future = pool.submit(call);
        } catch (RejectedExecutionException e) {
            throw new Overrun(true, e);
        }
        try {
            return future.get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            future.cancel(true);
            throw new Overrun(false, e);
        } catch (InterruptedException e) {
            future.cancel(true);
            throw e;
        }
    }
}
