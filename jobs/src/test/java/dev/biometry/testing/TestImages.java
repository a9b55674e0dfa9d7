package dev.biometry.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bytedeco.opencv.global.opencv_core.CV_8UC3;
import static org.bytedeco.opencv.global.opencv_core.flip;
import static org.bytedeco.opencv.global.opencv_imgcodecs.imencode;

import dev.biometry.face.Box;
import dev.biometry.face.FaceAnalysis;
import dev.biometry.face.FaceEngine;
import dev.biometry.media.ImageDecoder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Rect;
import org.bytedeco.opencv.opencv_core.Scalar;

/** Images made for tests: JPEG encoding, a same-face copy of a sample photo, a picture without a face. */
public final class TestImages {

    private TestImages() {}

    public static byte[] jpeg(Mat image) {
        try (BytePointer buf = new BytePointer()) {
            assertThat(imencode(".jpg", image, buf)).isTrue();
            byte[] out = new byte[(int) buf.limit()];
            buf.get(out);
            return out;
        }
    }

    /** The main face of {@code photo} cropped at three times its box and mirrored: the same person, another picture. */
    public static byte[] mirroredFaceCrop(FaceEngine engine, Path photo) throws Exception {
        byte[] original = TestData.read(photo);
        FaceAnalysis reference = engine.analyze(original, photo.toString());
        Box box = reference.chosen().box();
        try (Mat image = ImageDecoder.decode(original, photo.toString())) {
            int side = Math.round(Math.max(box.width(), box.height()) * 3);
            int x = Math.max(0, Math.round(box.centerX() - side / 2f));
            int y = Math.max(0, Math.round(box.centerY() - side / 2f));
            try (Rect rect = new Rect(x, y, Math.min(side, image.cols() - x), Math.min(side, image.rows() - y));
                    Mat crop = new Mat(image, rect);
                    Mat mirrored = new Mat()) {
                flip(crop, mirrored, 1);
                return jpeg(mirrored);
            }
        }
    }

    /** A uniform grey 640x480 JPEG: decodes fine, holds no face. */
    public static byte[] greyPicture() {
        try (Mat grey = new Mat(480, 640, CV_8UC3, new Scalar(128, 128, 128, 0))) {
            return jpeg(grey);
        }
    }

    public static Path write(Path dir, String name, byte[] bytes) throws IOException {
        Path file = dir.resolve(name);
        Files.write(file, bytes);
        return file;
    }
}
