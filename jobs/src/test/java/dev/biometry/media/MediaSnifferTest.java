package dev.biometry.media;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MediaSnifferTest {

    @Test
    void realImagesFromOpenCv() {
        assertThat(MediaSniffer.sniff(ImageHeaderCheckTest.encode(".jpg", 8, 8)))
                .isEqualTo(ContentKind.JPEG);
        assertThat(MediaSniffer.sniff(ImageHeaderCheckTest.encode(".png", 8, 8)))
                .isEqualTo(ContentKind.PNG);
    }

    @Test
    void eachMagicSignature() {
        assertThat(MediaSniffer.sniff(bytes(0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10))).isEqualTo(ContentKind.JPEG);
        assertThat(MediaSniffer.sniff(bytes(0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13)))
                .isEqualTo(ContentKind.PNG);
        assertThat(MediaSniffer.sniff(ascii("GIF89a\u0001\u0000"))).isEqualTo(ContentKind.GIF);
        assertThat(MediaSniffer.sniff(ascii("GIF87a\u0001\u0000"))).isEqualTo(ContentKind.GIF);
        assertThat(MediaSniffer.sniff(ascii("RIFF\u0024\u0000\u0000\u0000WEBPVP8 ")))
                .isEqualTo(ContentKind.WEBP);
        assertThat(MediaSniffer.sniff(ascii("RIFF\u0024\u0000\u0000\u0000AVI LIST")))
                .isEqualTo(ContentKind.AVI);
        assertThat(MediaSniffer.sniff(ascii("\u0000\u0000\u0000\u0018ftypisom\u0000\u0000\u0002\u0000")))
                .isEqualTo(ContentKind.MP4);
        assertThat(MediaSniffer.sniff(ascii("\u0000\u0000\u0000\u0014ftypqt  \u0000\u0000\u0002\u0000")))
                .isEqualTo(ContentKind.MP4);
        assertThat(MediaSniffer.sniff(ascii("\u0000\u0000\u0000\u0008wide\u0000\u0000\u0000\u0008mdat")))
                .isEqualTo(ContentKind.MP4);
        assertThat(MediaSniffer.sniff(ascii("\u0000\u0000\u0000\u0018ftypheic\u0000\u0000\u0000\u0000")))
                .isEqualTo(ContentKind.HEIF);
        assertThat(MediaSniffer.sniff(ascii("\u0000\u0000\u0000\u001Cftypavif\u0000\u0000\u0000\u0000")))
                .isEqualTo(ContentKind.HEIF);
        assertThat(MediaSniffer.sniff(bytes(0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81)))
                .isEqualTo(ContentKind.WEBM);
        assertThat(MediaSniffer.sniff(bytes('P', 'K', 3, 4, 20, 0, 0, 0))).isEqualTo(ContentKind.ZIP);
        assertThat(MediaSniffer.sniff(bytes('P', 'K', 5, 6, 0, 0, 0, 0))).isEqualTo(ContentKind.ZIP);
    }

    @Test
    void gifIsRecognizedButUnsupported() {
        ContentKind gif = MediaSniffer.sniff(ascii("GIF89a"));
        assertThat(gif.isImage()).isTrue();
        assertThat(gif.isSupportedImage()).isFalse();
        assertThat(ContentKind.JPEG.isSupportedImage()).isTrue();
        assertThat(ContentKind.PNG.isSupportedImage()).isTrue();
        assertThat(ContentKind.MP4.isVideo()).isTrue();
        assertThat(ContentKind.ZIP.isImage() || ContentKind.ZIP.isVideo()).isFalse();
    }

    @Test
    void textFileNamedJpgIsUnknown(@TempDir Path dir) throws Exception {
        Path fake = dir.resolve("portrait.jpg");
        Files.writeString(fake, "this is not a picture\n", StandardCharsets.UTF_8);

        assertThat(MediaSniffer.sniff(fake)).isEqualTo(ContentKind.UNKNOWN);
        assertThat(MediaSniffer.sniff(Files.readAllBytes(fake))).isEqualTo(ContentKind.UNKNOWN);
    }

    @Test
    void shortEmptyAndNearMissInputsAreUnknown() {
        assertThat(MediaSniffer.sniff(new byte[0])).isEqualTo(ContentKind.UNKNOWN);
        assertThat(MediaSniffer.sniff((byte[]) null)).isEqualTo(ContentKind.UNKNOWN);
        assertThat(MediaSniffer.sniff(bytes(0xFF, 0xD8))).isEqualTo(ContentKind.UNKNOWN);
        assertThat(MediaSniffer.sniff(ascii("RIFF\u0024\u0000\u0000\u0000WAVEfmt ")))
                .isEqualTo(ContentKind.UNKNOWN);
        assertThat(MediaSniffer.sniff(ascii("RIFF"))).isEqualTo(ContentKind.UNKNOWN);
        assertThat(MediaSniffer.sniff(ascii("\u0000\u0000\u0000\u0018ftyp"))).isEqualTo(ContentKind.MP4);
        assertThat(MediaSniffer.sniff(ascii("PK\u0001\u0002"))).isEqualTo(ContentKind.UNKNOWN);
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static byte[] bytes(int... values) {
        byte[] out = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (byte) values[i];
        }
        return out;
    }
}
