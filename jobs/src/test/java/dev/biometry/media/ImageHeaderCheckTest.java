package dev.biometry.media;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.bytedeco.opencv.global.opencv_core.CV_8UC3;
import static org.bytedeco.opencv.global.opencv_imgcodecs.IMWRITE_JPEG_PROGRESSIVE;
import static org.bytedeco.opencv.global.opencv_imgcodecs.imencode;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Scalar;
import org.junit.jupiter.api.Test;

class ImageHeaderCheckTest {

    private static final long FORTY_MP = 40_000_000L;

    @Test
    void pngDeclaringThirtyThousandSquaredIsRefusedBeforeDecoding() {
        byte[] bomb = png(30_000, 30_000, new byte[] {0x78, (byte) 0x9C, 0x03, 0x00}); // a few bytes of IDAT

        assertThat(ImageHeaderCheck.pixels(bomb)).isEqualTo(900_000_000L);
        assertThatThrownBy(() -> ImageHeaderCheck.checkPixels(bomb, FORTY_MP))
                .isInstanceOfSatisfying(MediaException.class, e -> {
                    assertThat(e.kind()).isEqualTo(MediaException.Kind.TOO_LARGE);
                    assertThat(e.ozErrorCode()).isEqualTo(4);
                })
                .hasMessage("image declares 30000 x 30000 pixels (900 MP); the limit is 40 MP");
    }

    @Test
    void pngBuilderMakesRealPngs() throws Exception {
        // Proves the chunk and CRC layout used for the bomb above: the same builder yields a decodable image.
        byte[] scanlines = new byte[2 * (1 + 3 * 3)]; // 3 x 2 RGB, filter byte 0 per row
        byte[] valid = png(3, 2, deflate(scanlines));
        try (Mat decoded = ImageDecoder.decode(valid, "built.png")) {
            assertThat(decoded.cols()).isEqualTo(3);
            assertThat(decoded.rows()).isEqualTo(2);
        }
        assertThat(ImageHeaderCheck.checkPixels(valid, FORTY_MP)).isEqualTo(6);
    }

    @Test
    void realJpegFromOpenCvReportsItsExactSize() throws Exception {
        byte[] jpeg = encode(".jpg", 123, 321);

        assertThat(ImageHeaderCheck.dimensions(jpeg)).contains(new ImageHeaderCheck.Dimensions(321, 123));
        assertThat(ImageHeaderCheck.pixels(jpeg)).isEqualTo(321L * 123);
        assertThat(ImageHeaderCheck.checkPixels(jpeg, FORTY_MP)).isEqualTo(321L * 123);
    }

    @Test
    void progressiveJpegUsesSof2() {
        byte[] jpeg = encode(".jpg", 77, 55, IMWRITE_JPEG_PROGRESSIVE, 1);

        assertThat(containsMarker(jpeg, 0xC2)).isTrue();
        assertThat(ImageHeaderCheck.dimensions(jpeg)).contains(new ImageHeaderCheck.Dimensions(55, 77));
    }

    @Test
    void realPngFromOpenCvReportsItsExactSize() {
        byte[] png = encode(".png", 40, 70);

        assertThat(ImageHeaderCheck.dimensions(png)).contains(new ImageHeaderCheck.Dimensions(70, 40));
    }

    @Test
    void segmentsAreSkippedByLengthAndFillBytesTolerated() {
        byte[] real = encode(".jpg", 20, 30);
        // An APP1 segment whose payload looks like a huge SOF0, then fill bytes before the next marker.
        byte[] fakeSof = {(byte) 0xFF, (byte) 0xC0, 0x00, 0x11, 0x08, (byte) 0xEA, 0x60, (byte) 0xEA, 0x60, 0x03};
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0xFF);
        out.write(0xD8);
        out.write(0xFF);
        out.write(0xE1);
        out.write(0);
        out.write(2 + 6 + fakeSof.length);
        out.writeBytes("Exif\0\0".getBytes(StandardCharsets.ISO_8859_1));
        out.writeBytes(fakeSof);
        out.write(0xFF);
        out.write(0xFF);
        out.write(0xFF);
        out.write(real, 2, real.length - 2);
        byte[] jpeg = out.toByteArray();

        assertThat(ImageHeaderCheck.dimensions(jpeg)).contains(new ImageHeaderCheck.Dimensions(30, 20));
    }

    @Test
    void dhtJpgAndDacMarkersAreNotFrameHeaders() {
        byte[] jpeg = bytes(
                0xFF, 0xD8, 0xFF, 0xC4, 0x00, 0x08, 0x08, 0xEA, 0x60, 0xEA, 0x60, 0x01, // DHT shaped like a SOF
                0xFF, 0xC8, 0x00, 0x08, 0x08, 0xEA, 0x60, 0xEA, 0x60, 0x01, // JPG
                0xFF, 0xCC, 0x00, 0x08, 0x08, 0xEA, 0x60, 0xEA, 0x60, 0x01, // DAC
                0xFF, 0xC1, 0x00, 0x0B, 0x08, 0x00, 0x10, 0x00, 0x20, 0x01, 0x01, 0x11, 0x00, // SOF1 32 x 16
                0xFF, 0xD9);

        assertThat(ImageHeaderCheck.dimensions(jpeg)).contains(new ImageHeaderCheck.Dimensions(32, 16));
    }

    @Test
    void jpegDeclaringThirtyThousandSquaredIsRefused() {
        byte[] jpeg = bytes(
                0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x00, 0x00, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0x75, 0x30, 0x75, 0x30,
                0x03);

        assertThatThrownBy(() -> ImageHeaderCheck.checkPixels(jpeg, FORTY_MP))
                .isInstanceOf(MediaException.class)
                .hasMessage("image declares 30000 x 30000 pixels (900 MP); the limit is 40 MP");
    }

    @Test
    void unknownOrUnreadableHeadersLeaveTheVerdictToTheDecoder() throws Exception {
        byte[] text = "just some text, not an image".getBytes(StandardCharsets.UTF_8);
        byte[] scanBeforeFrame = bytes(0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00);
        byte[] truncatedJpeg = bytes(0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0x4A);
        byte[] truncatedSof = bytes(0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0x75);
        byte[] zeroHeight = bytes(0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x00, 0x00, 0x20, 0x01);
        byte[] truncatedPng = java.util.Arrays.copyOf(png(10, 10, new byte[0]), 20);

        for (byte[] bytes :
                new byte[][] {text, scanBeforeFrame, truncatedJpeg, truncatedSof, zeroHeight, truncatedPng, new byte[0]
                }) {
            assertThat(ImageHeaderCheck.pixels(bytes)).isEqualTo(-1);
            assertThat(ImageHeaderCheck.checkPixels(bytes, 1)).isEqualTo(-1);
        }
        assertThat(ImageHeaderCheck.pixels(null)).isEqualTo(-1);
    }

    @Test
    void fractionalMegapixelsAreShownWithOneDecimal() {
        byte[] png = png(2_000, 1_250, new byte[0]); // 2.5 MP

        assertThatThrownBy(() -> ImageHeaderCheck.checkPixels(png, 1_500_000))
                .hasMessage("image declares 2000 x 1250 pixels (2.5 MP); the limit is 1.5 MP");
    }

    // --- helpers ---

    /** Signature, IHDR (8-bit RGB), one IDAT with {@code idat}, IEND; every CRC correct. */
    static byte[] png(int width, int height, byte[] idat) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
        ByteBuffer ihdr = ByteBuffer.allocate(13)
                .putInt(width)
                .putInt(height)
                .put((byte) 8)
                .put((byte) 2)
                .put((byte) 0)
                .put((byte) 0)
                .put((byte) 0);
        chunk(out, "IHDR", ihdr.array());
        chunk(out, "IDAT", idat);
        chunk(out, "IEND", new byte[0]);
        return out.toByteArray();
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
        byte[] typeBytes = type.getBytes(StandardCharsets.US_ASCII);
        CRC32 crc = new CRC32();
        crc.update(typeBytes);
        crc.update(data);
        out.writeBytes(ByteBuffer.allocate(4).putInt(data.length).array());
        out.writeBytes(typeBytes);
        out.writeBytes(data);
        out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }

    private static byte[] deflate(byte[] raw) {
        Deflater deflater = new Deflater();
        deflater.setInput(raw);
        deflater.finish();
        byte[] buffer = new byte[1024];
        int length = deflater.deflate(buffer);
        deflater.end();
        return java.util.Arrays.copyOf(buffer, length);
    }

    static byte[] encode(String extension, int rows, int cols, int... params) {
        try (Mat image = new Mat(rows, cols, CV_8UC3, new Scalar(30, 120, 200, 0));
                BytePointer buffer = new BytePointer();
                IntPointer parameters = new IntPointer(params)) {
            assertThat(imencode(extension, image, buffer, parameters)).isTrue();
            byte[] out = new byte[(int) buffer.limit()];
            buffer.get(out);
            return out;
        }
    }

    private static boolean containsMarker(byte[] jpeg, int marker) {
        for (int i = 0; i + 1 < jpeg.length; i++) {
            if ((jpeg[i] & 0xFF) == 0xFF && (jpeg[i + 1] & 0xFF) == marker) {
                return true;
            }
        }
        return false;
    }

    private static byte[] bytes(int... values) {
        byte[] out = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (byte) values[i];
        }
        return out;
    }
}
