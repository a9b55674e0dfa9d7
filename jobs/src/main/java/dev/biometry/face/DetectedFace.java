package dev.biometry.face;

/** One face found by the detector: its box in image pixels and the detector's face probability. */
public record DetectedFace(Box box, float score) {

    /** The same face in the pixels of an image {@code factor} times larger. */
    public DetectedFace scaled(float factor) {
        return new DetectedFace(box.scale(factor, factor), score);
    }
}
