package dev.biometry.media;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;
import static org.bytedeco.opencv.global.opencv_core.CV_8UC3;
import static org.bytedeco.opencv.global.opencv_imgcodecs.imencode;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Scalar;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ShotsSetReaderTest {

    private final ShotsSetReader reader = new ShotsSetReader();

    @Test
    void readsTheImagesInNaturalNameOrder() throws Exception {
        byte[] zip = zip(List.of(
                entry("10.jpg", jpeg(100)),
                entry("2.jpg", jpeg(20)),
                entry("1.jpg", jpeg(10)),
                entry("11.jpg", jpeg(110)),
                entry("3.jpg", jpeg(30))));

        List<ShotsSetImage> images = reader.read(zip, "shots.zip");

        assertThat(images)
                .extracting(ShotsSetImage::name)
                .containsExactly("1.jpg", "2.jpg", "3.jpg", "10.jpg", "11.jpg");
        for (ShotsSetImage image : images) {
            int expectedGrey = Integer.parseInt(image.name().replace(".jpg", "")) * 10;
            try (Mat decoded = ImageDecoder.decode(image.bytes(), image.name())) {
                assertThat(decoded.ptr(8, 8).get(0) & 0xFF).isCloseTo(expectedGrey, offset(3));
            }
        }
    }

    @Test
    void recognisesImagesByTheirBytesAndSkipsEverythingElse() throws Exception {
        byte[] zip = zip(List.of(
                entry("frames/", new byte[0]),
                entry("frames/readme.txt", "not an image".getBytes(StandardCharsets.UTF_8)),
                entry("frames/b.dat", png(50)),
                entry("frames/a.jpg", jpeg(60)),
                entry("frames/fake.jpg", "GIF89a....".getBytes(StandardCharsets.US_ASCII))));

        List<ShotsSetImage> images = reader.read(zip, "shots.zip");

        assertThat(images).extracting(ShotsSetImage::name).containsExactly("frames/a.jpg", "frames/b.dat");
    }

    @Test
    void naturalOrderComparesDigitRunsAsNumbers() {
        List<String> names = new ArrayList<>(List.of(
                "img10.png",
                "IMG2.png",
                "img1.png",
                "img02.png",
                "img9b.png",
                "img9a.png",
                "x/1.jpg",
                "img99999999999999999999.png",
                "img100000000000000000000.png"));

        names.sort(ShotsSetReader.NATURAL_ORDER);

        assertThat(names)
                .containsExactly(
                        "img1.png",
                        "IMG2.png",
                        "img02.png",
                        "img9a.png",
                        "img9b.png",
                        "img10.png",
                        "img99999999999999999999.png",
                        "img100000000000000000000.png",
                        "x/1.jpg");
    }

    @Test
    void refusesAZipBombQuickly() throws Exception {
        byte[] bomb = zipOfZeros("frame.jpg", 200L << 20);
        assertThat(bomb.length).isLessThan(400_000);

        // Also cut in half (100 MB of zeros in): a reader that inflated the entry before checking its ratio would
        // reach the cut and fail as corrupt; one that checks while inflating refuses it first (no wall-clock bound).
        byte[] cut = Arrays.copyOf(bomb, bomb.length / 2);
        for (byte[] bytes : List.of(bomb, cut)) {
            assertThatThrownBy(() -> reader.read(bytes, "bomb.zip"))
                    .isInstanceOfSatisfying(
                            MediaException.class, e -> assertThat(e.kind()).isEqualTo(MediaException.Kind.TOO_LARGE))
                    .hasMessageContaining("bomb.zip: entry frame.jpg is compressed more than 100:1");
        }
    }

    @Test
    void refusesAnEntryInflatingPastTheEntryLimit() throws Exception {
        byte[] noise = new byte[3000];
        new Random(1).nextBytes(noise);
        byte[] zip = zip(List.of(entry("1.jpg", jpeg(10)), entry("big.bin", noise)));
        ShotsSetReader strict = new ShotsSetReader(new ZipLimits(200, 2048, 1 << 20, 100));

        assertThatThrownBy(() -> strict.read(zip, "shots.zip"))
                .isInstanceOfSatisfying(
                        MediaException.class, e -> assertThat(e.kind()).isEqualTo(MediaException.Kind.TOO_LARGE))
                .hasMessage("shots.zip: entry big.bin inflates to more than 2048 bytes; the limit is 2048");
    }

    @Test
    void refusesEntriesInflatingPastTheTotalLimit() throws Exception {
        byte[] picture = jpeg(10);
        byte[] zip = zip(List.of(entry("1.jpg", picture), entry("2.jpg", picture), entry("3.jpg", picture)));
        ShotsSetReader strict = new ShotsSetReader(new ZipLimits(200, 1 << 20, picture.length * 2L + 10, 100));

        assertThatThrownBy(() -> strict.read(zip, "shots.zip"))
                .isInstanceOfSatisfying(
                        MediaException.class, e -> assertThat(e.kind()).isEqualTo(MediaException.Kind.TOO_LARGE))
                .hasMessageContaining("in all; the limit is " + (picture.length * 2L + 10));
    }

    @Test
    void refusesAnArchiveCompressedBeyondTheOverallRatio() throws Exception {
        // Each entry stays under the per-entry ratio floor; together they pass it at far more than 100:1.
        List<Entry> entries = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            entries.add(entry(i + ".bin", new byte[900 * 1024]));
        }
        byte[] zip = zip(entries);

        assertThatThrownBy(() -> reader.read(zip, "shots.zip"))
                .isInstanceOfSatisfying(
                        MediaException.class, e -> assertThat(e.kind()).isEqualTo(MediaException.Kind.TOO_LARGE))
                .hasMessageContaining("shots.zip: the archive is compressed more than 100:1");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "../../x",
                "frames/../../x.jpg",
                "..",
                "/etc/passwd",
                "frames\\1.jpg",
                "C:x.jpg",
                "c:/windows/1.jpg"
            })
    void refusesUnsafeEntryNames(String unsafe) throws Exception {
        byte[] zip = zip(List.of(entry("1.jpg", jpeg(10)), entry(unsafe, jpeg(20))));

        assertThatThrownBy(() -> reader.read(zip, "shots.zip"))
                .isInstanceOfSatisfying(
                        MediaException.class, e -> assertThat(e.kind()).isEqualTo(MediaException.Kind.FORBIDDEN))
                .hasMessage("shots.zip: unsafe entry name " + unsafe);
    }

    @Test
    void namesThatOnlyLookLikeParentsAreSafe() throws Exception {
        byte[] zip = zip(List.of(entry("..1.jpg", jpeg(10)), entry("a..b/2.jpg", jpeg(20))));

        assertThat(reader.read(zip, "shots.zip"))
                .extracting(ShotsSetImage::name)
                .containsExactly("..1.jpg", "a..b/2.jpg");
    }

    @Test
    void refusesAHundredThousandEntriesAtTheLimitWithoutReadingOn() throws Exception {
        byte[] zip = zipOfTinyEntries(100_000);
        // Cut about a thousand entries in: a reader that went on past the 201st entry would reach the cut and fail
        // as a corrupt archive; one that stops at the limit never sees it (no wall-clock bound: unit tests are not
        // timed).
        byte[] cut = Arrays.copyOf(zip, zip.length / 100);
        ShotsSetReader unlimited = new ShotsSetReader(new ZipLimits(1_000_000, 1 << 20, 1L << 30, 100));
        assertThatThrownBy(() -> unlimited.read(cut, "many.zip"))
                .as("a reader that goes on reaches the cut")
                .isInstanceOfSatisfying(
                        MediaException.class, e -> assertThat(e.kind()).isNotEqualTo(MediaException.Kind.TOO_LARGE));

        for (byte[] bytes : List.of(zip, cut)) {
            assertThatThrownBy(() -> reader.read(bytes, "many.zip"))
                    .isInstanceOfSatisfying(
                            MediaException.class, e -> assertThat(e.kind()).isEqualTo(MediaException.Kind.TOO_LARGE))
                    .hasMessage("many.zip: more than 200 entries; the limit is 200");
        }
    }

    @Test
    void bytesThatAreNotAZipAreUndecodable() throws Exception {
        byte[] notZip = jpeg(10);

        assertThatThrownBy(() -> reader.read(notZip, "shots.zip"))
                .isInstanceOfSatisfying(
                        MediaException.class, e -> assertThat(e.kind()).isEqualTo(MediaException.Kind.UNDECODABLE))
                .hasMessage("shots.zip: not a ZIP archive (" + notZip.length + " bytes)");
    }

    @Test
    void aCorruptZipIsUndecodable() throws Exception {
        byte[] zip = zip(List.of(entry("1.bin", new byte[100_000]), entry("2.jpg", jpeg(10))));
        byte[] cut = Arrays.copyOf(zip, 60);

        assertThatThrownBy(() -> reader.read(cut, "shots.zip"))
                .isInstanceOfSatisfying(
                        MediaException.class, e -> assertThat(e.kind()).isEqualTo(MediaException.Kind.UNDECODABLE))
                .hasMessageStartingWith("shots.zip: corrupt ZIP archive");
    }

    @Test
    void aZipWithoutImagesIsEmpty() throws Exception {
        byte[] zip = zip(List.of(entry("notes.txt", "hello".getBytes(StandardCharsets.UTF_8))));

        assertThatThrownBy(() -> reader.read(zip, "shots.zip"))
                .isInstanceOfSatisfying(
                        MediaException.class, e -> assertThat(e.kind()).isEqualTo(MediaException.Kind.EMPTY))
                .hasMessage("shots.zip: no JPEG or PNG image in the shots set (1 entries)");
    }

    @Test
    void anEmptyZipIsEmpty() throws Exception {
        byte[] zip = zip(List.of());

        assertThatThrownBy(() -> reader.read(zip, "shots.zip"))
                .isInstanceOfSatisfying(
                        MediaException.class, e -> assertThat(e.kind()).isEqualTo(MediaException.Kind.EMPTY));
    }

    // --- archives made for the tests --------------------------------------------------------------------------

    private record Entry(String name, byte[] bytes) {}

    private static Entry entry(String name, byte[] bytes) {
        return new Entry(name, bytes);
    }

    private static byte[] zip(List<Entry> entries) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(out)) {
            for (Entry entry : entries) {
                zip.putNextEntry(new ZipEntry(entry.name()));
                zip.write(entry.bytes());
                zip.closeEntry();
            }
        }
        return out.toByteArray();
    }

    /** One deflated entry of {@code size} zero bytes, streamed: the zeros are never all in memory. */
    private static byte[] zipOfZeros(String name, long size) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] zeros = new byte[1 << 20];
        try (ZipOutputStream zip = new ZipOutputStream(out)) {
            zip.putNextEntry(new ZipEntry(name));
            for (long written = 0; written < size; written += zeros.length) {
                zip.write(zeros, 0, (int) Math.min(zeros.length, size - written));
            }
            zip.closeEntry();
        }
        return out.toByteArray();
    }

    /** {@code count} one-byte entries, stored rather than deflated so the archive is quick to build. */
    private static byte[] zipOfTinyEntries(int count) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(count * 100);
        byte[] content = {'x'};
        CRC32 crc = new CRC32();
        crc.update(content);
        try (ZipOutputStream zip = new ZipOutputStream(out)) {
            zip.setMethod(ZipOutputStream.STORED);
            for (int i = 0; i < count; i++) {
                ZipEntry entry = new ZipEntry(i + ".txt");
                entry.setSize(1);
                entry.setCompressedSize(1);
                entry.setCrc(crc.getValue());
                zip.putNextEntry(entry);
                zip.write(content);
                zip.closeEntry();
            }
        }
        return out.toByteArray();
    }

    private static byte[] jpeg(int grey) {
        return encode(".jpg", grey);
    }

    private static byte[] png(int grey) {
        return encode(".png", grey);
    }

    private static byte[] encode(String extension, int grey) {
        try (Scalar colour = new Scalar(grey, grey, grey, 0);
                Mat image = new Mat(32, 48, CV_8UC3, colour);
                BytePointer buffer = new BytePointer()) {
            assertThat(imencode(extension, image, buffer)).isTrue();
            byte[] bytes = new byte[(int) buffer.limit()];
            buffer.get(bytes);
            return bytes;
        }
    }
}
