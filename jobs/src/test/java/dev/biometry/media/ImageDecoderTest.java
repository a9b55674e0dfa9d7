package dev.biometry.media;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.bytedeco.opencv.global.opencv_core.CV_8UC3;
import static org.bytedeco.opencv.global.opencv_core.ROTATE_90_COUNTERCLOCKWISE;
import static org.bytedeco.opencv.global.opencv_core.rotate;

import dev.biometry.testing.TestImages;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Scalar;
import org.junit.jupiter.api.Test;

/** Reduced-size JPEG decoding: which reduction a picture gets, and what the decoder returns at it. */
class ImageDecoderTest {

    private static byte[] greyJpeg(int width, int height) {
        try (Mat image = new Mat(height, width, CV_8UC3, new Scalar(90, 120, 150, 0))) {
            return TestImages.jpeg(image);
        }
    }

    @Test
    void theReductionKeepsTheShorterSideAtLeastTheMinimum() throws Exception {
        assertThat(ImageDecoder.jpegReduction(greyJpeg(640, 480), 480)).isEqualTo(1);
        assertThat(ImageDecoder.jpegReduction(greyJpeg(959, 959), 480)).isEqualTo(1);
        assertThat(ImageDecoder.jpegReduction(greyJpeg(1920, 1080), 480)).isEqualTo(2);
        assertThat(ImageDecoder.jpegReduction(greyJpeg(1080, 1920), 480)).isEqualTo(2);
        assertThat(ImageDecoder.jpegReduction(greyJpeg(4000, 3000), 480)).isEqualTo(4);
        assertThat(ImageDecoder.jpegReduction(greyJpeg(4000, 3840), 480)).isEqualTo(8);
        // PNG cannot be decoded at reduced size; unreadable bytes are left to the decoder.
        assertThat(ImageDecoder.jpegReduction(TestImages.pngBytes(greyJpeg(1920, 1080)), 480))
                .isEqualTo(1);
        assertThat(ImageDecoder.jpegReduction("not an image".getBytes(), 480)).isEqualTo(1);
        assertThat(ImageDecoder.jpegReduction(new byte[] {(byte) 0xFF, (byte) 0xD8}, 480))
                .isEqualTo(1);
    }

    @Test
    void aReducedDecodeIsThatFractionOfTheImage() throws Exception {
        byte[] jpeg = greyJpeg(1920, 1080);
        for (int reduction : new int[] {1, 2, 4, 8}) {
            try (Mat image = ImageDecoder.decode(jpeg, "grey", reduction)) {
                assertThat(image.cols()).as("reduction %d", reduction).isEqualTo(1920 / reduction);
                assertThat(image.rows()).as("reduction %d", reduction).isEqualTo(1080 / reduction);
                assertThat(image.channels()).isEqualTo(3);
            }
        }
        byte[] odd = greyJpeg(1921, 1081);
        try (Mat image = ImageDecoder.decode(odd, "odd", 4)) {
            assertThat(image.cols()).isEqualTo(481);
            assertThat(image.rows()).isEqualTo(271);
            assertThat(ImageDecoder.fullSize(odd, image, 4)).containsExactly(1921, 1081);
        }
        assertThatThrownBy(() -> ImageDecoder.decode(jpeg, "grey", 3)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aReducedDecodeHonoursTheExifOrientation() throws Exception {
        byte[] rotatedWithTag;
        try (Mat upright = new Mat(1080, 1920, CV_8UC3, new Scalar(90, 120, 150, 0));
                Mat stored = new Mat()) {
            rotate(upright, stored, ROTATE_90_COUNTERCLOCKWISE);
            rotatedWithTag = TestImages.withExifOrientation(TestImages.jpeg(stored), 6);
        }
        assertThat(ImageDecoder.jpegReduction(rotatedWithTag, 480)).isEqualTo(2);
        try (Mat image = ImageDecoder.decode(rotatedWithTag, "rotated", 2)) {
            assertThat(image.cols()).isEqualTo(960);
            assertThat(image.rows()).isEqualTo(540);
            assertThat(ImageDecoder.fullSize(rotatedWithTag, image, 2)).containsExactly(1920, 1080);
        }
    }
}
