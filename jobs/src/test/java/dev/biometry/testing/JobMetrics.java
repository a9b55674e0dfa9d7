package dev.biometry.testing;

import java.time.Duration;
import java.util.Collection;
import java.util.function.BooleanSupplier;
import java.util.regex.Pattern;
import org.apache.flink.api.common.JobID;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.Metric;
import org.apache.flink.runtime.testutils.InMemoryReporter;

/** Reads a job's metrics, summed over its subtasks, from an {@link InMemoryReporter}. */
public final class JobMetrics {

    private JobMetrics() {}

    /** The job's metrics whose own name (the identifier's last part) is {@code name}. */
    public static Collection<Metric> named(InMemoryReporter reporter, JobID job, String name) {
        return reporter.findMetrics(job, "\\." + Pattern.quote(name) + "$").values();
    }

    /** The sum of the job's counters {@code name}; 0 before any subtask registered one. */
    public static long counterSum(InMemoryReporter reporter, JobID job, String name) {
        long sum = 0;
        for (Metric m : named(reporter, job, name)) {
            sum += ((Counter) m).getCount();
        }
        return sum;
    }

    /** How many values the job's histograms {@code name} have recorded; 0 before any subtask registered one. */
    public static long histogramCount(InMemoryReporter reporter, JobID job, String name) {
        long count = 0;
        for (Metric m : named(reporter, job, name)) {
            count += ((Histogram) m).getCount();
        }
        return count;
    }

    /** The sum of the job's gauges {@code name} (numbers); 0 before any registered one. */
    public static long gaugeSum(InMemoryReporter reporter, JobID job, String name) {
        long sum = 0;
        for (Metric m : named(reporter, job, name)) {
            Object value = ((Gauge<?>) m).getValue();
            sum += value == null ? 0 : ((Number) value).longValue();
        }
        return sum;
    }

    /** Checkpoints of the job completed so far (the JobManager's {@code numberOfCompletedCheckpoints}). */
    public static long completedCheckpoints(InMemoryReporter reporter, JobID job) {
        return gaugeSum(reporter, job, "numberOfCompletedCheckpoints");
    }

    /**
     * Waits until {@code more} checkpoints of the job complete after this call: what the job emitted before is then
     * committed to its transactional sinks, and checkpoint-complete notifications have reached its operators.
     */
    public static void awaitMoreCheckpoints(InMemoryReporter reporter, JobID job, int more, Duration timeout)
            throws InterruptedException {
        long target = completedCheckpoints(reporter, job) + more;
        awaitTrue(
                "checkpoint " + target + " of job " + job + " completed",
                () -> completedCheckpoints(reporter, job) >= target,
                timeout);
    }

    /** Waits until {@code condition} holds, polling it every 50 ms; fails naming {@code what} after {@code timeout}. */
    public static void awaitTrue(String what, BooleanSupplier condition, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting until " + what);
            }
            Thread.sleep(50); // polls the condition
        }
    }
}
