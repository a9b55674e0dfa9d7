package dev.biometry.cli;

import java.io.PrintStream;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.Locale;

/** The benchmark's wait for the JIT compilers to settle before a measuring window opens. */
final class JitWarmup {

    /** JIT compilation below this share of a core counts as settled: the job runs compiled code. */
    private static final double QUIET_JIT_SECONDS_PER_S = 0.05;

    private JitWarmup() {}

    /**
     * Waits, at full load, until the JIT compilers spend less than {@link #QUIET_JIT_SECONDS_PER_S} of a core over
     * 5 s, or until {@code deadline}. On 2 cores the compilers take half a core for the first minute or more of the
     * job (Kafka clients, Flink runtime, Jackson), which would otherwise be measured as pipeline overhead.
     *
     * @return the compilers' share of a core over the last 5 s
     */
    static double awaitQuietCompiler(long deadline, PrintStream err) throws InterruptedException {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        if (jit == null || !jit.isCompilationTimeMonitoringSupported()) {
            return Double.NaN;
        }
        while (true) {
            long before = jit.getTotalCompilationTime();
            long t0 = System.nanoTime();
            Thread.sleep(5_000);
            double rate = (jit.getTotalCompilationTime() - before) / 1e3 / ((System.nanoTime() - t0) / 1e9);
            if (rate < QUIET_JIT_SECONDS_PER_S || System.nanoTime() >= deadline) {
                err.printf(Locale.ROOT, "bench: JIT at %.3f s/s, measuring%n", rate);
                return rate;
            }
            err.printf(Locale.ROOT, "bench: warming up (JIT compiling %.2f s/s)%n", rate);
        }
    }
}
