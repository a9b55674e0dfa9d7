package dev.biometry.face;

/**
 * A 2-D similarity transform (uniform scale, rotation, translation; no reflection or shear), fitted by least
 * squares over any number of point pairs (Umeyama's method, which in 2-D has the closed form used here).
 * Used to align a face's five landmarks onto the 112x112 reference of the embedding model.
 */
public record SimilarityTransform(double a, double b, double tx, double ty) {

    /** Maps (x, y) to (a·x − b·y + tx, b·x + a·y + ty): scale = hypot(a, b), angle = atan2(b, a). */
    public double[] apply(double x, double y) {
        return new double[] {a * x - b * y + tx, b * x + a * y + ty};
    }

    public double scale() {
        return Math.hypot(a, b);
    }

    public double rotationRadians() {
        return Math.atan2(b, a);
    }

    /** The 2x3 row-major matrix {@code [a, -b, tx, b, a, ty]} as OpenCV's {@code warpAffine} takes it. */
    public double[] toAffineMatrix() {
        return new double[] {a, -b, tx, b, a, ty};
    }

    /**
     * Least-squares similarity transform mapping {@code src[i]} onto {@code dst[i]}; points are {@code {x, y}} pairs.
     *
     * @throws IllegalArgumentException with fewer than two pairs, mismatched lengths, or coincident source points
     */
    public static SimilarityTransform estimate(double[][] src, double[][] dst) {
        if (src.length != dst.length || src.length < 2) {
            throw new IllegalArgumentException("need the same number (>= 2) of source and destination points, got "
                    + src.length + " and " + dst.length);
        }
        int n = src.length;
        double msx = 0, msy = 0, mdx = 0, mdy = 0;
        for (int i = 0; i < n; i++) {
            msx += src[i][0];
            msy += src[i][1];
            mdx += dst[i][0];
            mdy += dst[i][1];
        }
        msx /= n;
        msy /= n;
        mdx /= n;
        mdy /= n;
        double srcVar = 0, dot = 0, cross = 0;
        for (int i = 0; i < n; i++) {
            double sx = src[i][0] - msx, sy = src[i][1] - msy;
            double dx = dst[i][0] - mdx, dy = dst[i][1] - mdy;
            srcVar += sx * sx + sy * sy;
            dot += sx * dx + sy * dy;
            cross += sx * dy - sy * dx;
        }
        if (srcVar < 1e-12) {
            throw new IllegalArgumentException("source points coincide; no transform can be fitted");
        }
        double a = dot / srcVar;
        double b = cross / srcVar;
        double tx = mdx - (a * msx - b * msy);
        double ty = mdy - (b * msx + a * msy);
        return new SimilarityTransform(a, b, tx, ty);
    }
}
