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
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
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
@org.junit.jupiter.api.Tag("integration")
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
            assertThat(e)
                    .hasMessageContaining("media shots frame 01.png")
                    .hasMessageContaining("limited to " + VideoLimits.DEFAULTS.maxFramePixels() + " pixels")
                    .hasMessageContaining("8000x5000");
            // Not one frame was decoded (one would be 114 MB).
            System.out.printf(
                    "shots set of 10 x 40 MP PNGs (%d bytes), refused: RSS growth %d MB%n",
                    zip.length, rss.peakGrowth() / MB);
            assertThat(rss.peakGrowth()).as("RSS growth, bytes").isLessThan(64 * MB);
        }
    }

    @Test
    void framesTheLimitLetsThroughAreDecodedOneAtATime() throws Exception {
        VideoLimits video = new VideoLimits(
                VideoLimits.DEFAULTS.maxDuration(),
                (long) WIDTH * HEIGHT,
                VideoLimits.DEFAULTS.maxFramesRead(),
                VideoLimits.DEFAULTS.maxDecodeTime());
        MediaAnalyzer.Limits limits = new MediaAnalyzer.Limits(
                MediaAnalyzer.Limits.DEFAULTS.maxPixels(), video, MediaAnalyzer.Limits.DEFAULTS.zip(), 10, 3);
        MediaAnalyzer analyzer = new MediaAnalyzer(engine, FacePolicy.DEFAULT, limits);

        try (RssSampler rss = new RssSampler()) {
            long start = System.nanoTime();
            MediaFaces.Result result = analyzer.analyze(zip, MediaType.SHOTS_SET, false, "media shots");
            long millis = (System.nanoTime() - start) / 1_000_000;

            assertThat(result.template()).isNull();
            assertThat(result.problem()).isEqualTo("no face found in any of 10 frames");
            System.out.printf(
                    "shots set of 10 x 40 MP PNGs (%d bytes), analysed in %d ms: RSS growth %d MB "
                            + "(one frame %d MB, %d samples)%n",
                    zip.length, millis, rss.peakGrowth() / MB, FRAME_BYTES / MB, rss.samples());
            // All ten decoded together were 10 x 114 MB (the 1.2 GB the issue measured); one at a time stays
            // under four frames' worth (one frame, the decoder's and detector's working memory, heap growth).
            assertThat(rss.peakGrowth()).as("RSS growth, bytes").isLessThan(4 * FRAME_BYTES);
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

    /**
     * Samples this process's resident set size (VmRSS) every few milliseconds until closed. It reads
     * /proc/self/status into one reused buffer, so that its own garbage does not grow the Java heap it measures.
     */
    private static final class RssSampler implements AutoCloseable {

        private final RandomAccessFile status;
        private final byte[] buffer = new byte[8192];
        private final long baseline;
        private final AtomicLong peak;
        private final AtomicLong count = new AtomicLong();
        private final Thread thread;
        private volatile boolean running = true;

        RssSampler() throws IOException {
            status = new RandomAccessFile("/proc/self/status", "r");
            System.gc();
            baseline = rss();
            peak = new AtomicLong(baseline);
            thread = new Thread(
                    () -> {
                        while (running) {
                            long now = rss();
                            peak.accumulateAndGet(now, Math::max);
                            count.incrementAndGet();
                            try {
                                Thread.sleep(5);
                            } catch (InterruptedException e) {
                                return;
                            }
                        }
                    },
                    "rss-sampler");
            thread.setDaemon(true);
            thread.start();
        }

        long peakGrowth() {
            return peak.get() - baseline;
        }

        long samples() {
            return count.get();
        }

        @Override
        public void close() throws Exception {
            running = false;
            thread.join();
            status.close();
        }

        /** VmRSS in bytes. */
        private synchronized long rss() {
            try {
                status.seek(0);
                int length = 0;
                int read;
                while (length < buffer.length && (read = status.read(buffer, length, buffer.length - length)) > 0) {
                    length += read;
                }
                byte[] key = {'V', 'm', 'R', 'S', 'S', ':'};
                for (int i = 0; i + key.length < length; i++) {
                    int k = 0;
                    while (k < key.length && buffer[i + k] == key[k]) {
                        k++;
                    }
                    if (k == key.length) {
                        long kb = 0;
                        for (int j = i + k; j < length && buffer[j] != '\n'; j++) {
                            if (buffer[j] >= '0' && buffer[j] <= '9') {
                                kb = kb * 10 + (buffer[j] - '0');
                            }
                        }
                        return kb * 1024;
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read /proc/self/status", e);
            }
            throw new IllegalStateException("no VmRSS line in /proc/self/status");
        }
    }
}
