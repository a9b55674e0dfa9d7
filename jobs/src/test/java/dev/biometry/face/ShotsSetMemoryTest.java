package dev.biometry.face;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.bytedeco.opencv.global.opencv_core.CV_8UC3;
import static org.bytedeco.opencv.global.opencv_imgcodecs.IMWRITE_PNG_COMPRESSION;
import static org.bytedeco.opencv.global.opencv_imgcodecs.imencode;

import dev.biometry.api.MediaType;
import dev.biometry.media.MediaException;
import dev.biometry.media.VideoLimits;
import dev.biometry.testing.TestData;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Scalar;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Native memory of a hostile shots set: a ZIP of ten 40-megapixel PNGs (mostly uniform, so the whole ZIP is small)
 * used to be decoded all at once, 10 x 120 MB of BGR pixels outside the Java heap. Now every frame is held to the
 * per-frame pixel limit of video frames before anything is decoded (refused with error 4 by default), and when the
 * limit lets such frames through they are decoded one at a time. The process RSS is sampled from another thread
 * while the set is analysed.
 */
class ShotsSetMemoryTest {

    private static final int WIDTH = 8000;
    private static final int HEIGHT = 5000;
    private static final long FRAME_BYTES = 3L * WIDTH * HEIGHT;
    private static final long MB = 1L << 20;

    private static FaceEngine engine;
    private static byte[] zip;

    @BeforeAll
    static void setUp() throws Exception {
        engine = new FaceEngine(FaceEngineConfig.defaults(TestData.modelsDir()));
        zip = shotsSet(uniformPng());
    }

    @AfterAll
    static void tearDown() throws Exception {
        engine.close();
    }

    @Test
    void tenFortyMegapixelFramesAreRefusedBeforeAnyIsDecoded() throws Exception {
        assertThat((long) zip.length).as("the whole ZIP is small").isLessThan(5 * MB);
        MediaAnalyzer analyzer = new MediaAnalyzer(engine, FacePolicy.DEFAULT, MediaAnalyzer.Limits.DEFAULTS);

        try (RssSampler rss = new RssSampler()) {
            MediaException e = catchThrowableOfType(
                    () -> analyzer.analyze(zip, MediaType.SHOTS_SET, false, "media shots"), MediaException.class);

            assertThat(e).isNotNull();
            assertThat(e.ozErrorCode()).isEqualTo(4);
            assertThat(e.kind()).isEqualTo(MediaException.Kind.TOO_LARGE);
            assertThat(e).hasMessageContaining("media shots frame 01.png")
                    .hasMessageContaining("limited to " + VideoLimits.DEFAULTS.maxFramePixels() + " pixels")
                    .hasMessageContaining("8000x5000");
            // Not one frame was decoded (one would be 114 MB).
            System.out.printf("shots set of 10 x 40 MP PNGs (%d bytes), refused: RSS growth %d MB%n",
                    zip.length, rss.peakGrowth() / MB);
            assertThat(rss.peakGrowth()).as("RSS growth, bytes").isLessThan(64 * MB);
        }
    }

    @Test
    void framesTheLimitLetsThroughAreDecodedOneAtATime() throws Exception {
        VideoLimits video = new VideoLimits(VideoLimits.DEFAULTS.maxDuration(), (long) WIDTH * HEIGHT,
                VideoLimits.DEFAULTS.maxFramesRead(), VideoLimits.DEFAULTS.maxDecodeTime());
        MediaAnalyzer.Limits limits = new MediaAnalyzer.Limits(MediaAnalyzer.Limits.DEFAULTS.maxPixels(), video,
                MediaAnalyzer.Limits.DEFAULTS.zip(), 10, 3);
        MediaAnalyzer analyzer = new MediaAnalyzer(engine, FacePolicy.DEFAULT, limits);

        try (RssSampler rss = new RssSampler()) {
            MediaFaces.Result result = analyzer.analyze(zip, MediaType.SHOTS_SET, false, "media shots");

            assertThat(result.template()).isNull();
            assertThat(result.problem()).isEqualTo("no face found in any of 10 frames");
            System.out.printf("shots set of 10 x 40 MP PNGs (%d bytes), analysed: RSS growth %d MB (one frame %d MB)%n",
                    zip.length, rss.peakGrowth() / MB, FRAME_BYTES / MB);
            // All ten decoded together were 10 x 114 MB (the 1.2 GB the issue measured); one at a time stays
            // under three frames' worth (one frame plus the decoder's and detector's working memory).
            assertThat(rss.peakGrowth()).as("RSS growth, bytes").isLessThan(3 * FRAME_BYTES);
            assertThat(rss.samples()).as("RSS samples taken").isGreaterThan(10);
        }
    }

    /** A grey 8000 x 5000 PNG: 40 MP that compress to a few hundred KB. */
    private static byte[] uniformPng() {
        try (Mat grey = new Mat(HEIGHT, WIDTH, CV_8UC3, new Scalar(128, 128, 128, 0));
                BytePointer encoded = new BytePointer();
                IntPointer params = new IntPointer(IMWRITE_PNG_COMPRESSION, 9)) {
            assertThat(imencode(".png", grey, encoded, params)).isTrue();
            byte[] bytes = new byte[(int) encoded.limit()];
            encoded.get(bytes);
            return bytes;
        }
    }

    /** Ten copies of the PNG, named 01.png .. 10.png. */
    private static byte[] shotsSet(byte[] png) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream out = new ZipOutputStream(bytes)) {
            for (int i = 1; i <= 10; i++) {
                out.putNextEntry(new ZipEntry(String.format("%02d.png", i)));
                out.write(png);
                out.closeEntry();
            }
        }
        return bytes.toByteArray();
    }

    /** Samples this process's resident set size (VmRSS) every few milliseconds until closed. */
    private static final class RssSampler implements AutoCloseable {

        private final long baseline = rss();
        private final AtomicLong peak = new AtomicLong(baseline);
        private final AtomicLong count = new AtomicLong();
        private final Thread thread;
        private volatile boolean running = true;

        RssSampler() {
            thread = new Thread(() -> {
                while (running) {
                    peak.accumulateAndGet(rss(), Math::max);
                    count.incrementAndGet();
                    try {
                        Thread.sleep(2);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "rss-sampler");
            thread.setDaemon(true);
            thread.start();
        }

        long peakGrowth() {
            peak.accumulateAndGet(rss(), Math::max);
            return peak.get() - baseline;
        }

        long samples() {
            return count.get();
        }

        @Override
        public void close() throws InterruptedException {
            running = false;
            thread.join();
        }

        private static long rss() {
            try {
                for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                    if (line.startsWith("VmRSS:")) {
                        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                    }
                }
            } catch (IOException e) {
                throw new AssertionError("cannot read /proc/self/status", e);
            }
            throw new AssertionError("no VmRSS line in /proc/self/status");
        }
    }
}
