package dev.biometry.face;

import java.util.List;

/**
 * What the engine found in one image: every detected face and, for the chosen one (the largest; ties go to the
 * face nearest the image centre), its 68 landmarks and its L2-normalised 512-d embedding.
 *
 * @param faces all faces above the detection threshold after NMS, highest score first
 * @param chosen the face used for matching, or {@code null} when none was found
 * @param landmarks 68 (x, y) points of the chosen face in image pixels, interleaved; {@code null} without a face
 * @param embedding unit-length embedding of the chosen face; {@code null} without a face
 */
public record FaceAnalysis(
        int imageWidth, int imageHeight, List<DetectedFace> faces, DetectedFace chosen, float[] landmarks, float[] embedding) {

    public int facesDetected() {
        return faces.size();
    }

    public boolean hasFace() {
        return chosen != null;
    }

    /** This analysis for an image of the given size (the faces unchanged). */
    public FaceAnalysis withImageSize(int width, int height) {
        return new FaceAnalysis(width, height, faces, chosen, landmarks, embedding);
    }

    /** This analysis in the pixels of an image {@code factor} times larger (boxes and landmarks scaled). */
    public FaceAnalysis scaled(float factor) {
        if (factor == 1) {
            return this;
        }
        List<DetectedFace> scaledFaces = faces.stream().map(f -> f.scaled(factor)).toList();
        return new FaceAnalysis(Math.round(imageWidth * factor), Math.round(imageHeight * factor), scaledFaces,
                chosen == null ? null : chosen.scaled(factor), FaceMeasure.scale(landmarks, factor), embedding);
    }
}
