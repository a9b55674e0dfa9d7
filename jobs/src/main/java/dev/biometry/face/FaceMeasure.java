package dev.biometry.face;

/**
 * One face measured for matching: where it is, how sure the detector is, its landmarks, the distance between the
 * eye centres, the sharpness of the aligned face (variance of its Laplacian) and, once computed, its embedding.
 */
public record FaceMeasure(Box box, float score, float[] landmarks, double interOcular, double sharpness, float[] embedding) {

    public FaceMeasure withEmbedding(float[] e) {
        return new FaceMeasure(box, score, landmarks, interOcular, sharpness, e);
    }

    /** Best-shot score of a video frame: detector score x face side x sharpness. */
    public double bestShotScore() {
        return score * Math.min(box.width(), box.height()) * sharpness;
    }
}
