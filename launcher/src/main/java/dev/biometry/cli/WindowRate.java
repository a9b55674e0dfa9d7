package dev.biometry.cli;

import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/**
 * Rate of final results read over a window. Results read within {@code groupGap} of each other form one group
 * (under exactly-once, one checkpoint's commits by every sink subtask); the rate counts the groups after the
 * first up to the last, over the time from the first group to the last, so it is exact between two commits.
 */
record WindowRate(long analyses, long faces, double seconds, int batches) {

    static WindowRate of(
            Collection<PipelineRun.Arrival> arrivals, long windowStart, long windowEnd, long groupGapNanos) {
        List<PipelineRun.Arrival> inside = arrivals.stream()
                .filter(a -> a.nanos() >= windowStart && a.nanos() <= windowEnd)
                .sorted(Comparator.comparingLong(PipelineRun.Arrival::nanos))
                .toList();
        if (inside.isEmpty()) {
            return new WindowRate(0, 0, 0, 0);
        }
        long firstGroup = inside.get(0).nanos();
        long groupStart = firstGroup;
        long previous = firstGroup;
        long lastGroup = firstGroup;
        long analyses = 0;
        long faces = 0;
        int groups = 1;
        boolean inFirstGroup = true;
        for (PipelineRun.Arrival a : inside) {
            if (a.nanos() - previous > groupGapNanos) {
                groupStart = a.nanos();
                groups++;
                inFirstGroup = false;
            }
            previous = a.nanos();
            if (!inFirstGroup) { // the first group is the start line, not counted
                analyses++;
                faces += a.faces();
                lastGroup = groupStart;
            }
        }
        return new WindowRate(analyses, faces, (lastGroup - firstGroup) / 1e9, groups - 1);
    }

    /** Final results read in each second from {@code from}, for {@code seconds} seconds. */
    static int[] perSecond(Collection<PipelineRun.Arrival> arrivals, long from, int seconds) {
        int[] bins = new int[seconds];
        for (PipelineRun.Arrival a : arrivals) {
            long bin = Math.floorDiv(a.nanos() - from, 1_000_000_000L);
            if (bin >= 0 && bin < seconds) {
                bins[(int) bin]++;
            }
        }
        return bins;
    }

    double analysesPerSecond() {
        return seconds > 0 ? analyses / seconds : 0;
    }

    double facesPerSecond() {
        return seconds > 0 ? faces / seconds : 0;
    }
}
