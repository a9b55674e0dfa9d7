package dev.biometry.face;

/** An axis-aligned box in pixel coordinates of the image it was found in ({@code x1,y1} top-left, exclusive far corner). */
public record Box(float x1, float y1, float x2, float y2) {

    public float width() {
        return Math.max(0f, x2 - x1);
    }

    public float height() {
        return Math.max(0f, y2 - y1);
    }

    public float area() {
        return width() * height();
    }

    public float centerX() {
        return (x1 + x2) / 2f;
    }

    public float centerY() {
        return (y1 + y2) / 2f;
    }

    /** Intersection over union; 0 when either box is empty. */
    public float iou(Box other) {
        float ix = Math.min(x2, other.x2) - Math.max(x1, other.x1);
        float iy = Math.min(y2, other.y2) - Math.max(y1, other.y1);
        if (ix <= 0 || iy <= 0) {
            return 0f;
        }
        float inter = ix * iy;
        float union = area() + other.area() - inter;
        return union <= 0 ? 0f : inter / union;
    }

    public Box scale(float sx, float sy) {
        return new Box(x1 * sx, y1 * sy, x2 * sx, y2 * sy);
    }
}
