package dev.biometry.face;

import java.io.Serializable;

/**
 * Which face of a media is used and when a face is too poor to match.
 *
 * @param multipleFaces {@link MultipleFaces#LARGEST} (default) uses the main face; {@link MultipleFaces#REJECT}
 *     refuses a media with more than one face above the detection threshold
 * @param minFaceSide smallest accepted face box side in pixels of the upright image (default 40)
 * @param minInterOcular smallest accepted distance between the eye centres in pixels (default 16)
 * @param minSharpness smallest accepted variance of the Laplacian of the aligned 112x112 grey face (default 15: every
 *     face of the 899 dev-set photos measures at least 27; a 1080p photo blurred with sigma 6 measures 7 to 13)
 * @param minDetectorScore smallest accepted detector score of the chosen face (default 0.8)
 */
public record FacePolicy(
        MultipleFaces multipleFaces,
        int minFaceSide,
        double minInterOcular,
        double minSharpness,
        double minDetectorScore)
        implements Serializable {

    private static final long serialVersionUID = 1L;

    /** What to do with a media that shows more than one face. */
    public enum MultipleFaces {
        LARGEST,
        REJECT
    }

    public static final FacePolicy DEFAULT = new FacePolicy(MultipleFaces.LARGEST, 40, 16, 15, 0.8);

    /** A policy that accepts every detected face (for evaluation). */
    public static final FacePolicy ACCEPT_ALL = new FacePolicy(MultipleFaces.LARGEST, 0, 0, 0, 0);

    /** Why {@code face} fails the quality gate, or null when it passes. */
    public String qualityProblem(FaceMeasure face) {
        float side = Math.min(face.box().width(), face.box().height());
        if (side < minFaceSide) {
            return String.format(
                    java.util.Locale.ROOT,
                    "face quality too low: face is %.0f px, the minimum is %d px",
                    side,
                    minFaceSide);
        }
        if (face.interOcular() < minInterOcular) {
            return String.format(
                    java.util.Locale.ROOT,
                    "face quality too low: eyes are %.1f px apart, the minimum is %.1f px",
                    face.interOcular(),
                    minInterOcular);
        }
        if (face.score() < minDetectorScore) {
            return String.format(
                    java.util.Locale.ROOT,
                    "face quality too low: detector score %.4f, the minimum is %.4f",
                    face.score(),
                    minDetectorScore);
        }
        if (face.sharpness() < minSharpness) {
            return String.format(
                    java.util.Locale.ROOT,
                    "face quality too low: sharpness %.1f, the minimum is %.1f (blurred?)",
                    face.sharpness(),
                    minSharpness);
        }
        return null;
    }
}
