package dev.biometry.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bytedeco.opencv.global.opencv_core.CV_8UC3;

import dev.biometry.face.FaceCrops;
import dev.biometry.face.FaceEngine;
import java.io.ByteArrayOutputStream;
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
            assertThat(org.bytedeco.opencv.global.opencv_imgcodecs.imencode(".png", image, buf))
                    .isTrue();
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

    /** Inserts an EXIF APP1 segment holding only the orientation tag right after the JPEG SOI marker. */
    public static byte[] withExifOrientation(byte[] jpeg, int orientation) {
        byte[] tiff = {
            'M',
            'M',
            0,
            42,
            0,
            0,
            0,
            8, // big-endian TIFF header, first IFD at offset 8
            0,
            1, // one entry
            0x01,
            0x12,
            0,
            3,
            0,
            0,
            0,
            1,
            0,
            (byte) orientation,
            0,
            0, // Orientation, SHORT, count 1, value
            0,
            0,
            0,
            0 // no next IFD
        };
        byte[] exifHeader = {'E', 'x', 'i', 'f', 0, 0};
        int length = 2 + exifHeader.length + tiff.length;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(jpeg, 0, 2);
        out.write(0xFF);
        out.write(0xE1);
        out.write(length >> 8);
        out.write(length & 0xFF);
        out.write(exifHeader, 0, exifHeader.length);
        out.write(tiff, 0, tiff.length);
        out.write(jpeg, 2, jpeg.length - 2);
        return out.toByteArray();
    }
}
