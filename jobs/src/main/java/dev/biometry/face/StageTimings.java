package dev.biometry.face;

import java.util.EnumMap;
import java.util.Map;

/** Cumulative wall time and call count per stage of the face chain; one instance per engine, not thread-safe. */
public final class StageTimings {

    /** The stages of the chain, in order. */
    public enum Stage {
        DECODE,
        DETECT,
        LANDMARKS,
        ALIGN,
        EMBED
    }

    private final long[] nanos = new long[Stage.values().length];
    private final long[] calls = new long[Stage.values().length];

    public void add(Stage stage, long elapsedNanos) {
        nanos[stage.ordinal()] += elapsedNanos;
        calls[stage.ordinal()]++;
    }

    public long nanos(Stage stage) {
        return nanos[stage.ordinal()];
    }

    public long calls(Stage stage) {
        return calls[stage.ordinal()];
    }

    /** Mean milliseconds per call of each stage (0 for a stage never called). */
    public Map<Stage, Double> meanMillis() {
        Map<Stage, Double> out = new EnumMap<>(Stage.class);
        for (Stage s : Stage.values()) {
            out.put(s, calls(s) == 0 ? 0.0 : nanos(s) / 1e6 / calls(s));
        }
        return out;
    }

    public void addAll(StageTimings other) {
        for (int i = 0; i < nanos.length; i++) {
            nanos[i] += other.nanos[i];
            calls[i] += other.calls[i];
        }
    }

    public void reset() {
        java.util.Arrays.fill(nanos, 0);
        java.util.Arrays.fill(calls, 0);
    }
}
