package dev.biometry.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bytedeco.opencv.global.opencv_core.CV_8UC3;

import dev.biometry.face.FaceCrops;
import dev.biometry.face.FaceEngine;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Scalar;

/** Images made for tests: JPEG encoding, a same-face copy of a sample photo, a picture without a face. */
public final class TestImages {

    private TestImages() {}

    public static byte[] jpeg(Mat image) {
        return FaceCrops.jpeg(image);
    }

    /** The main face of {@code photo} cropped at three times its box and mirrored: the same person, another picture. */
    public static byte[] mirroredFaceCrop(FaceEngine engine, Path photo) throws Exception {
        byte[] crop = FaceCrops.mirroredCrop(engine, TestData.read(photo), photo.toString());
        assertThat(crop).as("a face in %s", photo).isNotNull();
        return crop;
    }

    /** A uniform grey 640x480 JPEG: decodes fine, holds no face. */
    public static byte[] greyPicture() {
        try (Mat grey = new Mat(480, 640, CV_8UC3, new Scalar(128, 128, 128, 0))) {
            return jpeg(grey);
        }
    }

    /** Re-encodes an image as PNG. */
    public static byte[] pngBytes(byte[] encoded) throws Exception {
        try (Mat image = dev.biometry.media.ImageDecoder.decode(encoded, "png source");
                org.bytedeco.javacpp.BytePointer buf = new org.bytedeco.javacpp.BytePointer()) {
            assertThat(org.bytedeco.opencv.global.opencv_imgcodecs.imencode(".png", image, buf)).isTrue();
            byte[] out = new byte[(int) buf.limit()];
            buf.get(out);
            return out;
        }
    }

    public static Path write(Path dir, String name, byte[] bytes) throws IOException {
        Path file = dir.resolve(name);
        Files.write(file, bytes);
        return file;
    }
}
