package dev.biometry.api;

/** Oz timestamps on the wire: epoch seconds as a number with a millisecond fraction (spec §1.7). */
public final class Timestamps {

    private Timestamps() {}

    public static double epochSeconds(long epochMillis) {
        return epochMillis / 1000.0;
    }

    public static double now() {
        return epochSeconds(System.currentTimeMillis());
    }
}
