package dev.biometry.pipeline;

import java.time.Duration;
import java.util.function.LongSupplier;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.HistogramStatistics;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogramStatistics;

/**
 * A histogram of the values recorded in the last {@code window} of time (at most {@code capacity} of them): unlike a
 * window of the latest N values, it shows what happens now, both at a few records an hour (old values drop out) and
 * right after a burst or a start-up (whose values stop counting after the window). Its count is every value ever
 * recorded, as Flink's histograms count.
 */
final class RecentHistogram implements Histogram {

    private final long windowMillis;
    private final LongSupplier clock;
    private final long[] values;
    private final long[] times;
    private int next;
    private int size;
    private long count;

    RecentHistogram(Duration window, int capacity) {
        this(window, capacity, System::currentTimeMillis);
    }

    RecentHistogram(Duration window, int capacity, LongSupplier clockMillis) {
        this.windowMillis = window.toMillis();
        this.clock = clockMillis;
        this.values = new long[capacity];
        this.times = new long[capacity];
    }

    @Override
    public synchronized void update(long value) {
        values[next] = value;
        times[next] = clock.getAsLong();
        next = (next + 1) % values.length;
        size = Math.min(size + 1, values.length);
        count++;
    }

    @Override
    public synchronized long getCount() {
        return count;
    }

    /** Statistics of the values recorded within the window (none: an empty set, whose quantiles are NaN). */
    @Override
    public synchronized HistogramStatistics getStatistics() {
        long since = clock.getAsLong() - windowMillis;
        double[] recent = new double[size];
        int n = 0;
        for (int i = 0; i < size; i++) {
            int slot = Math.floorMod(next - 1 - i, values.length); // newest first
            if (times[slot] < since) {
                break;
            }
            recent[n++] = values[slot];
        }
        return new DescriptiveStatisticsHistogramStatistics(java.util.Arrays.copyOf(recent, n));
    }
}
