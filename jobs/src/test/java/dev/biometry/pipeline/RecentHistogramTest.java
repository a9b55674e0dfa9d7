package dev.biometry.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The record-age histogram shows the values of its time window only, and counts every value. */
class RecentHistogramTest {

    private final AtomicLong now = new AtomicLong(1_000_000);
    private final RecentHistogram histogram = new RecentHistogram(Duration.ofSeconds(10), 4, now::get);

    @Test
    void valuesOlderThanTheWindowStopCounting() {
        histogram.update(5_000); // a start-up's slow first record
        now.addAndGet(9_000);
        histogram.update(10);
        histogram.update(30);
        assertThat(histogram.getStatistics().getValues()).containsExactlyInAnyOrder(5_000L, 10L, 30L);

        now.addAndGet(2_000); // the first value is now 11 s old
        assertThat(histogram.getStatistics().getValues()).containsExactlyInAnyOrder(10L, 30L);
        assertThat(histogram.getStatistics().getQuantile(0.5)).isEqualTo(20.0);
        assertThat(histogram.getCount()).as("every value ever recorded").isEqualTo(3);

        now.addAndGet(60_000);
        assertThat(histogram.getStatistics().size()).isZero();
        assertThat(histogram.getStatistics().getQuantile(0.5)).isNaN();
    }

    @Test
    void aBurstKeepsTheLatestValuesUpToTheCapacity() {
        for (long v = 1; v <= 6; v++) {
            histogram.update(v);
        }
        assertThat(histogram.getStatistics().getValues()).containsExactlyInAnyOrder(3L, 4L, 5L, 6L);
        assertThat(histogram.getCount()).isEqualTo(6);
    }
}
