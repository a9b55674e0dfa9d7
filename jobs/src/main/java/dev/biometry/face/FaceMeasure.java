package dev.biometry.face;

/**
 * One face measured for matching: where it is, how sure the detector is, its landmarks, the distance between the
 * eye centres, the sharpness of the aligned face (variance of its Laplacian) and, once computed, its embedding.
 */
public record FaceMeasure(
        Box box, float score, float[] landmarks, double interOcular, double sharpness, float[] embedding) {

    public FaceMeasure withEmbedding(float[] e) {
        return new FaceMeasure(box, score, landmarks, interOcular, sharpness, e);
    }

    /** This measure in the pixels of an image {@code factor} times larger (box, landmarks, eye distance scaled). */
    public FaceMeasure scaled(float factor) {
        if (factor == 1) {
            return this;
        }
        return new FaceMeasure(
                box.scale(factor, factor), score, scale(landmarks, factor), interOcular * factor, sharpness, embedding);
    }

    static float[] scale(float[] points, float factor) {
        if (points == null) {
            return null;
        }
        float[] out = new float[points.length];
        for (int i = 0; i < points.length; i++) {
            out[i] = points[i] * factor;
        }
        return out;
    }

    /** Best-shot score of a video frame: detector score x face side x sharpness. */
    public double bestShotScore() {
        return score * Math.min(box.width(), box.height()) * sharpness;
    }
}
