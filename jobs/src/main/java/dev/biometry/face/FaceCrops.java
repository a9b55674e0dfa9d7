package dev.biometry.face;

import static org.bytedeco.opencv.global.opencv_core.flip;
import static org.bytedeco.opencv.global.opencv_imgcodecs.imencode;

import ai.onnxruntime.OrtException;
import dev.biometry.media.ImageDecoder;
import dev.biometry.media.MediaException;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Rect;

/** Derived pictures of a photo's main face, for the local demo and tests: another picture of the same person. */
public final class FaceCrops {

    private FaceCrops() {}

    /** The main face cropped at three times its box, mirrored, as JPEG; null when the photo has no face. */
    public static byte[] mirroredCrop(FaceEngine engine, byte[] photo, String name)
            throws MediaException, OrtException {
        FaceAnalysis analysis = engine.analyze(photo, name);
        if (!analysis.hasFace()) {
            return null;
        }
        try (Mat image = ImageDecoder.decode(photo, name);
                Rect rect = around(analysis.chosen().box(), 3, image.cols(), image.rows());
                Mat crop = new Mat(image, rect);
                Mat mirrored = new Mat()) {
            flip(crop, mirrored, 1);
            return jpeg(mirrored);
        }
    }

    /** A square of {@code factor} times the box's larger side, centred on the box, clipped to the image. */
    public static Rect around(Box box, float factor, int imageWidth, int imageHeight) {
        int side = Math.round(Math.max(box.width(), box.height()) * factor);
        int x = Math.max(0, Math.round(box.centerX() - side / 2f));
        int y = Math.max(0, Math.round(box.centerY() - side / 2f));
        return new Rect(x, y, Math.min(side, imageWidth - x), Math.min(side, imageHeight - y));
    }

    /** Encodes a BGR image as JPEG. */
    public static byte[] jpeg(Mat image) {
        try (BytePointer buf = new BytePointer()) {
            if (!imencode(".jpg", image, buf)) {
                throw new IllegalStateException("JPEG encoding failed");
            }
            byte[] out = new byte[(int) buf.limit()];
            buf.get(out);
            return out;
        }
    }
}
