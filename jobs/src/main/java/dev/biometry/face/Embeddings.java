package dev.biometry.face;

/** Arithmetic on face embeddings that the engine and the frame averaging share. */
public final class Embeddings {

    private Embeddings() {}

    /**
     * A new array holding {@code v} scaled to unit Euclidean length (accumulated in double).
     *
     * @throws IllegalArgumentException if {@code v} is empty, all zeros, or contains NaN or an infinity
     */
    public static float[] l2Normalize(float[] v) {
        double sum = 0.0;
        for (float x : v) {
            sum += (double) x * x;
        }
        double norm = Math.sqrt(sum);
        if (norm == 0.0 || !Double.isFinite(norm)) {
            throw new IllegalArgumentException("cannot normalise a vector of norm " + norm);
        }
        float[] unit = new float[v.length];
        for (int k = 0; k < v.length; k++) {
            unit[k] = (float) (v[k] / norm);
        }
        return unit;
    }
}
