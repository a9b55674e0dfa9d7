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
        int imageWidth,
        int imageHeight,
        List<DetectedFace> faces,
        DetectedFace chosen,
        float[] landmarks,
        float[] embedding) {

    public int facesDetected() {
        return faces.size();
    }

    public boolean hasFace() {
        return chosen != null;
    }
}
