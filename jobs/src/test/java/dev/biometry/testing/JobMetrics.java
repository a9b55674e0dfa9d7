package dev.biometry.testing;

import java.util.Collection;
import java.util.regex.Pattern;
import org.apache.flink.api.common.JobID;
import org.apache.flink.metrics.Counter;
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
}
