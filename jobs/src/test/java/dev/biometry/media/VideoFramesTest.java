package dev.biometry.media;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;
import static org.bytedeco.opencv.global.opencv_core.CV_8UC3;
import static org.bytedeco.opencv.global.opencv_imgcodecs.imencode;
import static org.bytedeco.opencv.global.opencv_imgproc.INTER_NEAREST;
import static org.bytedeco.opencv.global.opencv_imgproc.resize;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.IntFunction;
import org.bytedeco.ffmpeg.global.avcodec;
import org.bytedeco.ffmpeg.global.avutil;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacv.FFmpegFrameRecorder;
import org.bytedeco.javacv.OpenCVFrameConverter;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Rect;
import org.bytedeco.opencv.opencv_core.Scalar;
import org.bytedeco.opencv.opencv_core.Size;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class VideoFramesTest {

    private static final int WIDTH = 160;
    private static final int HEIGHT = 120;

    @TempDir
    Path tempDir;

    private final VideoFrames videoFrames = new VideoFrames();

    /** Containers and codecs the bundled FFmpeg can write (it has no x264). */
    enum Container {
        MP4_MPEG4("mp4", avcodec.AV_CODEC_ID_MPEG4, false),
        AVI_MPEG4("avi", avcodec.AV_CODEC_ID_MPEG4, false),
        AVI_MJPEG("avi", avcodec.AV_CODEC_ID_MJPEG, false),
        MOV_MJPEG("mov", avcodec.AV_CODEC_ID_MJPEG, false),
        /** Written to a stream, as a browser's MediaRecorder does: the header carries no duration. */
        WEBM_VP9_STREAMED("webm", avcodec.AV_CODEC_ID_VP9, true);

        final String format;
        final int codec;
        final boolean streamed;

        Container(String format, int codec, boolean streamed) {
            this.format = format;
            this.codec = codec;
            this.streamed = streamed;
        }
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void samplesTenFramesSpreadEvenlyOverAThreeSecondVideo(Container container) throws Exception {
        byte[] video = record(container, WIDTH, HEIGHT, 25, 75, 0, VideoFramesTest::numberedFrame);

        try (SampledFrames sampled = videoFrames.sample(video, "clip." + container.format)) {
            assertThat(sampled.videoFrameCount()).isEqualTo(75);
            assertThat(sampled.durationSeconds()).isCloseTo(3.0, offset(0.05));
            List<SampledFrame> frames = sampled.frames();
            assertThat(frames).hasSize(10);
            int[] indices = frames.stream().mapToInt(SampledFrame::index).toArray();
            assertThat(indices).isEqualTo(new int[] {3, 11, 18, 26, 33, 41, 48, 56, 63, 71});
            for (SampledFrame frame : frames) {
                assertThat(frame.bgr().cols()).isEqualTo(WIDTH);
                assertThat(frame.bgr().rows()).isEqualTo(HEIGHT);
                assertThat(frame.bgr().type()).isEqualTo(CV_8UC3);
                assertThat(frameNumber(frame.bgr()))
                        .as("picture of frame %d", frame.index())
                        .isEqualTo(frame.index());
            }
        }
    }

    @Test
    void returnsEveryFrameOfAVideoShorterThanTheSample() throws Exception {
        byte[] video = record(Container.MP4_MPEG4, WIDTH, HEIGHT, 25, 4, 0, VideoFramesTest::numberedFrame);

        try (SampledFrames sampled = videoFrames.sample(video, "short.mp4")) {
            assertThat(sampled.frames()).extracting(SampledFrame::index).containsExactly(0, 1, 2, 3);
            assertThat(sampled.frames())
                    .allSatisfy(f -> assertThat(frameNumber(f.bgr())).isEqualTo(f.index()));
        }
    }

    @Test
    void samplesTheRequestedNumberOfFrames() throws Exception {
        byte[] video = record(Container.MP4_MPEG4, WIDTH, HEIGHT, 25, 75, 0, VideoFramesTest::numberedFrame);

        try (SampledFrames sampled = videoFrames.sample(video, "clip.mp4", 3)) {
            assertThat(sampled.frames()).extracting(SampledFrame::index).containsExactly(12, 37, 62);
        }
    }

    @Test
    void refusesATwelveSecondVideoFromItsHeader() throws Exception {
        byte[] video = record(Container.MP4_MPEG4, 64, 48, 5, 60, 0, VideoFramesTest::numberedFrame);

        long start = System.nanoTime();
        assertThatThrownBy(() -> videoFrames.sample(video, "long.mp4"))
                .isInstanceOfSatisfying(MediaException.class, e -> {
                    assertThat(e.kind()).isEqualTo(MediaException.Kind.TOO_LONG);
                    assertThat(e.getMessage()).isEqualTo("long.mp4: video is 12.0 s long; the limit is 10 s");
                });
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));
    }

    @Test
    void durationIsCheckedBeforeAnyFrameIsRead() throws Exception {
        // moov first, then cut right after it: the header says 12 s, but not a single frame is left to read.
        byte[] video = record(Container.MP4_MPEG4, 64, 48, 5, 60, 0, VideoFramesTest::numberedFrame, "faststart");
        byte[] headerOnly = Arrays.copyOf(video, moovEnd(video));

        assertThatThrownBy(() -> videoFrames.sample(headerOnly, "long.mp4"))
                .isInstanceOfSatisfying(
                        MediaException.class, e -> assertThat(e.kind()).isEqualTo(MediaException.Kind.TOO_LONG))
                .hasMessage("long.mp4: video is 12.0 s long; the limit is 10 s");
    }

    @Test
    void refusesAVideoWithoutDeclaredDurationOnceItsFramesPassTheLimit() throws Exception {
        byte[] video = record(Container.WEBM_VP9_STREAMED, 64, 48, 5, 60, 0, VideoFramesTest::numberedFrame);

        assertThatThrownBy(() -> videoFrames.sample(video, "long.webm"))
                .isInstanceOfSatisfying(
                        MediaException.class, e -> assertThat(e.kind()).isEqualTo(MediaException.Kind.TOO_LONG))
                .hasMessageStartingWith("long.webm: video is more than 10 s long (it has a frame at 10.2 s)");
    }

    @Test
    void refusesFramesLargerThan1080p() throws Exception {
        byte[] video = record(Container.MP4_MPEG4, 3840, 2160, 25, 3, 0, VideoFramesTest::numberedFrame);

        assertThatThrownBy(() -> videoFrames.sample(video, "4k.mp4"))
                .isInstanceOfSatisfying(
                        MediaException.class, e -> assertThat(e.kind()).isEqualTo(MediaException.Kind.TOO_LARGE))
                .hasMessage("4k.mp4: video frames are 3840x2160 (8294400 pixels); the limit is 2073600 pixels");
    }

    @Test
    void acceptsPortrait1080p() throws Exception {
        byte[] video = record(Container.MP4_MPEG4, 1080, 1920, 25, 2, 0, VideoFramesTest::numberedFrame);

        try (SampledFrames sampled = videoFrames.sample(video, "portrait.mp4")) {
            assertThat(sampled.frames()).hasSize(2);
            assertThat(sampled.frames().get(0).bgr().rows()).isEqualTo(1920);
        }
    }

    @Test
    void refusesMoreFramesThanTheFrameLimit() throws Exception {
        byte[] video = record(Container.MP4_MPEG4, WIDTH, HEIGHT, 25, 75, 0, VideoFramesTest::numberedFrame);
        VideoFrames strict =
                new VideoFrames(new VideoLimits(Duration.ofSeconds(10), 1920L * 1080, 50, Duration.ofSeconds(15)));

        assertThatThrownBy(() -> strict.sample(video, "clip.mp4"))
                .isInstanceOfSatisfying(
                        MediaException.class, e -> assertThat(e.kind()).isEqualTo(MediaException.Kind.TOO_LONG))
                .hasMessage("clip.mp4: video has more than 50 frames; the limit is 50");
    }

    @Test
    void givesUpWhenTheDecodingTimeIsSpent() throws Exception {
        byte[] video = record(Container.MP4_MPEG4, WIDTH, HEIGHT, 25, 75, 0, VideoFramesTest::numberedFrame);
        VideoFrames hurried =
                new VideoFrames(new VideoLimits(Duration.ofSeconds(10), 1920L * 1080, 1200, Duration.ofNanos(1)));

        assertThatThrownBy(() -> hurried.sample(video, "clip.mp4"))
                .isInstanceOfSatisfying(
                        MediaException.class, e -> assertThat(e.kind()).isEqualTo(MediaException.Kind.TOO_LONG))
                .hasMessageContaining("gave up decoding the video");
    }

    @Test
    void randomBytesAreUndecodable() {
        byte[] noise = new byte[64 * 1024];
        new Random(7).nextBytes(noise);

        assertThatThrownBy(() -> videoFrames.sample(noise, "noise.mp4"))
                .isInstanceOfSatisfying(
                        MediaException.class, e -> assertThat(e.kind()).isEqualTo(MediaException.Kind.UNDECODABLE))
                .hasMessage("noise.mp4: not a decodable MP4, MOV, WebM or AVI video (65536 bytes)");
    }

    @Test
    void emptyBytesAreEmpty() {
        assertThatThrownBy(() -> videoFrames.sample(new byte[0], "empty.mp4"))
                .isInstanceOfSatisfying(
                        MediaException.class, e -> assertThat(e.kind()).isEqualTo(MediaException.Kind.EMPTY));
    }

    @Test
    void anImageIsNotAVideo() throws Exception {
        byte[] jpeg;
        try (Mat picture = numberedFrame(5);
                BytePointer buffer = new BytePointer()) {
            imencode(".jpg", picture, buffer);
            jpeg = new byte[(int) buffer.limit()];
            buffer.get(jpeg);
        }

        assertThatThrownBy(() -> videoFrames.sample(jpeg, "photo.jpg"))
                .isInstanceOfSatisfying(
                        MediaException.class, e -> assertThat(e.kind()).isEqualTo(MediaException.Kind.UNDECODABLE));
    }

    @Test
    void aTruncatedMp4WithoutItsIndexIsUndecodable() throws Exception {
        // FFmpeg writes the moov atom (the index) last, so the first half holds frames but no way to find them.
        byte[] video = record(Container.MP4_MPEG4, WIDTH, HEIGHT, 25, 75, 0, VideoFramesTest::numberedFrame);
        byte[] firstHalf = Arrays.copyOf(video, video.length / 2);

        assertThatThrownBy(() -> videoFrames.sample(firstHalf, "cut.mp4"))
                .isInstanceOfSatisfying(
                        MediaException.class, e -> assertThat(e.kind()).isEqualTo(MediaException.Kind.UNDECODABLE));
    }

    @Test
    void aTruncatedAviYieldsFramesSampledFromItsReadablePart() throws Exception {
        byte[] video = record(Container.AVI_MPEG4, WIDTH, HEIGHT, 25, 75, 0, VideoFramesTest::numberedFrame);
        byte[] head = Arrays.copyOf(video, video.length * 6 / 10);

        try (SampledFrames sampled = videoFrames.sample(head, "cut.avi")) {
            int readable = sampled.videoFrameCount();
            assertThat(readable).isBetween(30, 50);
            assertThat(sampled.frames()).hasSize(10);
            assertThat(sampled.frames()).allSatisfy(f -> {
                assertThat(f.index()).isLessThan(readable);
                assertThat(frameNumber(f.bgr())).isEqualTo(f.index());
            });
            assertThat(sampled.frames().get(9).index()).isGreaterThan(readable * 9 / 10);
        }
    }

    @Test
    void appliesTheDisplayMatrixRotation() throws Exception {
        // Stored landscape with the bright half on the right; the display matrix turns it 90° counterclockwise.
        byte[] video = record(Container.MP4_MPEG4, WIDTH, HEIGHT, 25, 5, 90, n -> halves(0, 255));

        try (SampledFrames sampled = videoFrames.sample(video, "portrait.mp4")) {
            Mat upright = sampled.frames().get(0).bgr();
            assertThat(upright.cols()).isEqualTo(HEIGHT);
            assertThat(upright.rows()).isEqualTo(WIDTH);
            assertThat(grey(upright, WIDTH / 4, HEIGHT / 2)).as("top").isGreaterThan(200);
            assertThat(grey(upright, WIDTH * 3 / 4, HEIGHT / 2)).as("bottom").isLessThan(50);
        }
    }

    @Test
    void quarterTurnsFollowFfmpegsCounterclockwiseAngles() {
        assertThat(VideoFrames.quarterTurnsCounterclockwise(0)).isZero();
        assertThat(VideoFrames.quarterTurnsCounterclockwise(90)).isEqualTo(1);
        assertThat(VideoFrames.quarterTurnsCounterclockwise(-90)).isEqualTo(3);
        assertThat(VideoFrames.quarterTurnsCounterclockwise(180)).isEqualTo(2);
        assertThat(VideoFrames.quarterTurnsCounterclockwise(-180)).isEqualTo(2);
        assertThat(VideoFrames.quarterTurnsCounterclockwise(45)).isZero();
        assertThat(VideoFrames.quarterTurnsCounterclockwise(Double.NaN)).isZero();
    }

    @Test
    void closingTheSampleReleasesEveryMat() throws Exception {
        byte[] video = record(Container.MP4_MPEG4, WIDTH, HEIGHT, 25, 20, 0, VideoFramesTest::numberedFrame);

        SampledFrames sampled = videoFrames.sample(video, "clip.mp4");
        List<SampledFrame> frames = sampled.frames();
        sampled.close();
        sampled.close();

        assertThat(frames).allSatisfy(f -> assertThat(f.bgr().isNull()).isTrue());
    }

    // --- synthetic videos -------------------------------------------------------------------------------------

    private byte[] record(
            Container container,
            int width,
            int height,
            double fps,
            int frames,
            double rotation,
            IntFunction<Mat> picture)
            throws Exception {
        return record(container, width, height, fps, frames, rotation, picture, null);
    }

    private byte[] record(
            Container container,
            int width,
            int height,
            double fps,
            int frames,
            double rotation,
            IntFunction<Mat> picture,
            String movFlags)
            throws Exception {
        ByteArrayOutputStream streamed = new ByteArrayOutputStream();
        Path file = Files.createTempFile(tempDir, "video", "." + container.format);
        try (FFmpegFrameRecorder recorder = container.streamed
                        ? new FFmpegFrameRecorder(streamed, width, height, 0)
                        : new FFmpegFrameRecorder(file.toFile(), width, height, 0);
                OpenCVFrameConverter.ToMat converter = new OpenCVFrameConverter.ToMat()) {
            recorder.setFormat(container.format);
            recorder.setVideoCodec(container.codec);
            recorder.setFrameRate(fps);
            if (container.codec == avcodec.AV_CODEC_ID_MJPEG) {
                recorder.setPixelFormat(avutil.AV_PIX_FMT_YUVJ420P);
            }
            if (container.codec == avcodec.AV_CODEC_ID_VP9) {
                recorder.setVideoOption("deadline", "realtime");
                recorder.setVideoOption("cpu-used", "8");
                recorder.setVideoBitrate(1_000_000);
            } else {
                recorder.setVideoQuality(2);
            }
            if (rotation != 0) {
                recorder.setDisplayRotation(rotation);
            }
            if (movFlags != null) {
                recorder.setOption("movflags", movFlags);
            }
            recorder.start();
            for (int n = 0; n < frames; n++) {
                try (Mat original = picture.apply(n);
                        Size size = new Size(width, height);
                        Mat sized = new Mat()) {
                    resize(original, sized, size, 0, 0, INTER_NEAREST);
                    recorder.record(converter.convert(sized));
                }
            }
            recorder.stop();
        }
        return container.streamed ? streamed.toByteArray() : Files.readAllBytes(file);
    }

    /** Grey level for digit d: far enough apart to survive lossy coding. */
    private static int level(int digit) {
        return 15 + 25 * digit;
    }

    /** A WIDTH x HEIGHT picture whose left half shows the tens digit of n and right half the units, as grey levels. */
    private static Mat numberedFrame(int n) {
        return halves(level(n / 10 % 10), level(n % 10));
    }

    private static Mat halves(int left, int right) {
        Mat picture;
        try (Scalar background = new Scalar(left, left, left, 0)) {
            picture = new Mat(HEIGHT, WIDTH, CV_8UC3, background);
        }
        try (Rect rightHalf = new Rect(WIDTH / 2, 0, WIDTH / 2, HEIGHT);
                Mat view = new Mat(picture, rightHalf);
                Scalar colour = new Scalar(right, right, right, 0)) {
            view.put(colour);
        }
        return picture;
    }

    private static int frameNumber(Mat frame) {
        int rows = frame.rows();
        int cols = frame.cols();
        int tens = Math.round((grey(frame, rows / 2, cols / 4) - 15) / 25f);
        int units = Math.round((grey(frame, rows / 2, cols * 3 / 4) - 15) / 25f);
        return tens * 10 + units;
    }

    private static int grey(Mat frame, int row, int col) {
        return frame.ptr(row, col).get(1) & 0xFF;
    }

    /** Offset just past the top-level moov box of an MP4 written with faststart. */
    private static int moovEnd(byte[] mp4) {
        int offset = 0;
        while (offset + 8 <= mp4.length) {
            long size = ((mp4[offset] & 0xFFL) << 24)
                    | ((mp4[offset + 1] & 0xFF) << 16)
                    | ((mp4[offset + 2] & 0xFF) << 8)
                    | (mp4[offset + 3] & 0xFF);
            String type = new String(mp4, offset + 4, 4, StandardCharsets.US_ASCII);
            if (type.equals("moov")) {
                return offset + (int) size;
            }
            offset += (int) size;
        }
        throw new AssertionError("no moov box");
    }
}
