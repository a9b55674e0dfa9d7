package dev.biometry.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.biometry.api.Json;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.locks.LockSupport;

/** The arithmetic and formatting of the benchmark's figures: rounding, percentiles, NaN as JSON null, pacing. */
final class BenchFigures {

    private BenchFigures() {}

    /** Rounds for display; NaN stays NaN (written as JSON null by {@link #nanToNull}). */
    static double round(double v, int digits) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return v;
        }
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }

    /** Nearest-rank percentile of sorted values; NaN for none. */
    static double pct(double[] sorted, double q) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(q / 100.0 * sorted.length);
        return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
    }

    /** Count, p50, p95, p99, max and mean of sorted milliseconds. */
    static ObjectNode percentiles(double[] sortedMs) {
        ObjectNode p = Json.mapper().createObjectNode();
        p.put("count", sortedMs.length);
        for (int q : new int[] {50, 95, 99}) {
            p.put("p" + q, round(pct(sortedMs, q), 1));
        }
        p.put("max", round(pct(sortedMs, 100), 1));
        p.put("mean", round(Arrays.stream(sortedMs).average().orElse(Double.NaN), 1));
        return p;
    }

    /** Figures that could not be measured (NaN) become JSON null, so the output stays valid JSON. */
    static void nanToNull(JsonNode node) {
        if (node instanceof ObjectNode object) {
            List<String> names = new ArrayList<>();
            object.fieldNames().forEachRemaining(names::add);
            for (String name : names) {
                JsonNode child = object.get(name);
                if (child.isNumber() && Double.isNaN(child.asDouble())) {
                    object.putNull(name);
                } else {
                    nanToNull(child);
                }
            }
        }
    }

    static String fmt(double v, int digits) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%." + digits + "f", v);
    }

    /** Parks until {@code nanoTime} ({@link System#nanoTime()}): paces producers without drift. */
    static void sleepUntil(long nanoTime) {
        long remaining;
        while ((remaining = nanoTime - System.nanoTime()) > 0) {
            LockSupport.parkNanos(remaining);
        }
    }
}
