package dev.biometry.pipeline;

import java.time.Duration;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;

/**
 * An operator's histogram of how old its records are, in milliseconds since the Kafka record they stem from was
 * written (its Kafka timestamp, which Flink carries with every record through the job). One per stage, so the
 * dashboard and {@code bench} show where the time between request and result goes: the waits between stages (network
 * buffers, queues behind other records, checkpoint alignment) are the differences between neighbouring stages.
 * Records without a timestamp (file and generated sources) are not counted. The timestamp is the producer's clock
 * ({@code CreateTime}) unless the topic uses {@code LogAppendTime}, so skew between clocks shifts the figures.
 */
final class RecordAge {

    /** Age of each record on arrival at the operator. */
    static final String INPUT = "inputAgeMs";

    /** Age of each record when the operator emits its result (stages whose own work takes time). */
    static final String OUTPUT = "outputAgeMs";

    /** Each subtask's histogram shows the records of the last 10 s ... */
    static final Duration WINDOW = Duration.ofSeconds(10);

    /** ... or its latest 2,000 when more came in that time. */
    static final int CAPACITY = 2000;

    private final Histogram histogram;

    private RecordAge(Histogram histogram) {
        this.histogram = histogram;
    }

    /** Registers the histogram {@code name} in {@code group}. */
    static RecordAge register(MetricGroup group, String name) {
        return new RecordAge(group.histogram(name, new RecentHistogram(WINDOW, CAPACITY)));
    }

    /** Records the age of a record whose timestamp is {@code timestamp} (null: none); clock skew counts as 0. */
    void record(Long timestamp) {
        if (timestamp != null && timestamp > 0) {
            histogram.update(Math.max(0, System.currentTimeMillis() - timestamp));
        }
    }
}
