package dev.biometry.media;

import static org.bytedeco.ffmpeg.global.avcodec.av_packet_unref;
import static org.bytedeco.ffmpeg.global.avformat.AVFMT_DURATION_FROM_BITRATE;
import static org.bytedeco.ffmpeg.global.avutil.AV_NOPTS_VALUE;
import static org.bytedeco.ffmpeg.global.avutil.AV_TIME_BASE;
import static org.bytedeco.ffmpeg.global.avutil.av_q2d;
import static org.bytedeco.opencv.global.opencv_core.ROTATE_180;
import static org.bytedeco.opencv.global.opencv_core.ROTATE_90_CLOCKWISE;
import static org.bytedeco.opencv.global.opencv_core.ROTATE_90_COUNTERCLOCKWISE;
import static org.bytedeco.opencv.global.opencv_core.rotate;

import java.io.ByteArrayInputStream;
import java.io.Serializable;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.bytedeco.ffmpeg.avcodec.AVPacket;
import org.bytedeco.ffmpeg.avformat.AVFormatContext;
import org.bytedeco.ffmpeg.avformat.AVStream;
import org.bytedeco.javacv.FFmpegFrameGrabber;
import org.bytedeco.javacv.Frame;
import org.bytedeco.javacv.FrameGrabber;
import org.bytedeco.javacv.OpenCVFrameConverter;
import org.bytedeco.opencv.opencv_core.Mat;

/**
 * Samples still frames, evenly spread, from a short video held in memory: MP4/MOV, WebM/Matroska or AVI.
 *
 * <p>The bytes are given to FFmpeg through a {@link ByteArrayInputStream}, never a temp file: JavaCV turns FFmpeg's
 * seeks into mark/reset/skip on the stream, which a ByteArrayInputStream supports over its whole length, so containers
 * that keep their index at the end (an MP4 whose moov atom follows the media data) open as well. Only the MOV/MP4,
 * Matroska/WebM and AVI demuxers are allowed, so playlist-like formats (HLS, concat) that open other URLs never run.
 *
 * <p>Every step is bounded by {@link VideoLimits}, and all of them share one wall-clock budget:
 * <ol>
 *   <li>open the container; refuse a declared duration over the duration limit, then frames over the pixel limit —
 *       no frame decoded yet, beyond what FFmpeg's stream probing decodes itself;</li>
 *   <li>count the video packets without decoding them; refuse more than {@link VideoLimits#maxFramesRead()} and
 *       timestamps past the duration limit. This is what bounds videos whose header has no duration (browser
 *       MediaRecorder WebM, or a duration FFmpeg could only guess from the bitrate), and headers that lie;</li>
 *   <li>open the video again and decode from the start, converting to BGR only the frames at the centres of
 *       {@code count} equal segments of the counted frames, and stop after the last of them.</li>
 * </ol>
 * Decoding is sequential rather than seeking, so indices are exact whatever the keyframe spacing.
 *
 * <p>A truncated video whose container still opens yields the frames that can be read: its frame count and the
 * sample come from the readable part. A video whose header or index is lost is {@link MediaException.Kind#UNDECODABLE}.
 *
 * <p>Rotation: a display matrix turning the picture by a multiple of 90° (phones filming in portrait) is applied, so
 * frames come out as a player shows them. Mirroring in the matrix and angles that are not multiples of 90° are
 * ignored: such frames are returned as stored.
 */
public final class VideoFrames implements Serializable {

    private static final long serialVersionUID = 1L;

    /** Frames sampled when the caller does not say how many. */
    public static final int DEFAULT_FRAME_COUNT = 10;

    /** FFmpeg demuxer names: "mov" reads MP4 and MOV, "matroska" reads WebM. */
    private static final String ALLOWED_DEMUXERS = "mov,matroska,avi";

    private final VideoLimits limits;

    public VideoFrames() {
        this(VideoLimits.DEFAULTS);
    }

    public VideoFrames(VideoLimits limits) {
        this.limits = limits;
    }

    /** Samples {@link #DEFAULT_FRAME_COUNT} frames; see {@link #sample(byte[], String, int)}. */
    public SampledFrames sample(byte[] video, String name) throws MediaException {
        return sample(video, name, DEFAULT_FRAME_COUNT);
    }

    /**
     * Returns {@code count} frames spread evenly over the video (all of them when it has fewer), in video order.
     * The caller owns the result and must close it.
     *
     * @param name names the media in error messages
     * @throws MediaException {@link MediaException.Kind#EMPTY} for zero bytes; {@link MediaException.Kind#UNDECODABLE}
     *     for bytes that are not a readable video in an allowed container; {@link MediaException.Kind#TOO_LARGE} for
     *     frames over the pixel limit; {@link MediaException.Kind#TOO_LONG} for a video over the duration or frame
     *     limit, or one that does not finish within the wall-clock budget
     */
    public SampledFrames sample(byte[] video, String name, int count) throws MediaException {
        if (count < 1) {
            throw new IllegalArgumentException("count must be at least 1: " + count);
        }
        if (video == null || video.length == 0) {
            throw new MediaException(MediaException.Kind.EMPTY, name + ": empty video (0 bytes)");
        }
        long deadline = System.nanoTime() + limits.maxDecodeTime().toNanos();

        VideoFacts facts;
        FFmpegFrameGrabber inspector = open(video, name);
        try {
            facts = inspect(inspector, name, deadline);
        } finally {
            closeQuietly(inspector);
        }

        FFmpegFrameGrabber decoder = open(video, name);
        try {
            return decode(decoder, name, evenlySpaced(facts.frameCount(), count), facts, deadline);
        } finally {
            closeQuietly(decoder);
        }
    }

    /**
     * Frame indices at the centres of {@code count} equal segments of {@code total} frames: never the very first or
     * last frame of a long video (camera start-up, a cut-off final frame); every frame when there are too few.
     */
    static int[] evenlySpaced(int total, int count) {
        if (total <= count) {
            int[] all = new int[total];
            for (int i = 0; i < total; i++) {
                all[i] = i;
            }
            return all;
        }
        int[] indices = new int[count];
        for (int k = 0; k < count; k++) {
            indices[k] = (int) ((2L * k + 1) * total / (2L * count));
        }
        return indices;
    }

    private record VideoFacts(int frameCount, double durationSeconds) {}

    private static FFmpegFrameGrabber open(byte[] video, String name) throws MediaException {
        FFmpegFrameGrabber grabber = new FFmpegFrameGrabber(new ByteArrayInputStream(video));
        grabber.setOption("format_whitelist", ALLOWED_DEMUXERS);
        try {
            grabber.start();
        } catch (FrameGrabber.Exception | RuntimeException e) {
            closeQuietly(grabber);
            throw new MediaException(
                    MediaException.Kind.UNDECODABLE,
                    name + ": not a decodable MP4, MOV, WebM or AVI video (" + video.length + " bytes)",
                    e);
        }
        if (!grabber.hasVideo() || grabber.getVideoStream() < 0) {
            closeQuietly(grabber);
            throw new MediaException(
                    MediaException.Kind.UNDECODABLE,
                    name + ": no video stream in this " + grabber.getFormat() + " file");
        }
        return grabber;
    }

    private VideoFacts inspect(FFmpegFrameGrabber grabber, String name, long deadline) throws MediaException {
        double limitSeconds = limits.maxDuration().toNanos() / 1e9;
        double declaredSeconds = declaredDurationSeconds(grabber.getFormatContext());
        if (declaredSeconds > limitSeconds) {
            throw new MediaException(
                    MediaException.Kind.TOO_LONG,
                    name + ": video is " + secondsAbove(declaredSeconds, limitSeconds) + " s long; the limit is "
                            + plain(limitSeconds) + " s");
        }

        int videoStream = grabber.getVideoStream();
        AVStream stream = grabber.getFormatContext().streams(videoStream);
        // The decoder knows the size once FFmpeg's probing decoded a frame; otherwise the container header does.
        int width = grabber.getImageWidth() > 0
                ? grabber.getImageWidth()
                : stream.codecpar().width();
        int height = grabber.getImageHeight() > 0
                ? grabber.getImageHeight()
                : stream.codecpar().height();
        if (width <= 0 || height <= 0) {
            throw new MediaException(MediaException.Kind.UNDECODABLE, name + ": the video stream has no frame size");
        }
        checkFrameSize(width, height, name);
        checkDeadline(deadline, name);

        double secondsPerTick = av_q2d(stream.time_base());
        long firstTick = Long.MAX_VALUE;
        long lastTick = Long.MIN_VALUE;
        int frames = 0;
        long packets = 0;
        try {
            AVPacket packet;
            while ((packet = grabber.grabPacket()) != null) {
                try {
                    if (packet.stream_index() == videoStream) {
                        frames++;
                        if (frames > limits.maxFramesRead()) {
                            throw new MediaException(
                                    MediaException.Kind.TOO_LONG,
                                    name + ": video has more than " + limits.maxFramesRead() + " frames; the limit is "
                                            + limits.maxFramesRead());
                        }
                        long tick = packet.pts() != AV_NOPTS_VALUE ? packet.pts() : packet.dts();
                        if (tick != AV_NOPTS_VALUE) {
                            firstTick = Math.min(firstTick, tick);
                            lastTick = Math.max(lastTick, tick);
                            double frameStart = (lastTick - firstTick) * secondsPerTick;
                            if (frameStart > limitSeconds) {
                                throw new MediaException(
                                        MediaException.Kind.TOO_LONG,
                                        name
                                                + ": video is more than " + plain(limitSeconds)
                                                + " s long (it has a frame at "
                                                + secondsAbove(frameStart, limitSeconds) + " s); the limit is "
                                                + plain(limitSeconds) + " s");
                            }
                        }
                    }
                } finally {
                    av_packet_unref(packet);
                }
                if (++packets % 16 == 0) {
                    checkDeadline(deadline, name);
                }
            }
        } catch (FrameGrabber.Exception e) {
            throw new MediaException(MediaException.Kind.UNDECODABLE, name + ": cannot read the video packets", e);
        }
        if (frames == 0) {
            throw new MediaException(MediaException.Kind.UNDECODABLE, name + ": the video stream holds no frame");
        }
        double durationSeconds = declaredSeconds;
        if (Double.isNaN(durationSeconds)) {
            double frameRate = grabber.getVideoFrameRate();
            double lastFrameLength = frameRate > 0 ? 1 / frameRate : 0;
            durationSeconds = lastTick >= firstTick ? (lastTick - firstTick) * secondsPerTick + lastFrameLength : 0;
        }
        return new VideoFacts(frames, durationSeconds);
    }

    /** The duration the header declares, in seconds, or NaN when it declares none. */
    private static double declaredDurationSeconds(AVFormatContext format) {
        long duration = format.duration();
        // FFmpeg fills in a bitrate-based guess when the header has no duration; that guess proves nothing.
        if (duration == AV_NOPTS_VALUE
                || duration <= 0
                || format.duration_estimation_method() == AVFMT_DURATION_FROM_BITRATE) {
            return Double.NaN;
        }
        return duration / (double) AV_TIME_BASE;
    }

    private SampledFrames decode(FFmpegFrameGrabber grabber, String name, int[] wanted, VideoFacts facts, long deadline)
            throws MediaException {
        int quarterTurns = quarterTurnsCounterclockwise(grabber.getDisplayRotation());
        List<SampledFrame> kept = new ArrayList<>(wanted.length);
        boolean complete = false;
        try (OpenCVFrameConverter.ToMat converter = new OpenCVFrameConverter.ToMat()) {
            int index = 0;
            int next = 0;
            while (next < wanted.length) {
                checkDeadline(deadline, name);
                boolean keep = wanted[next] == index;
                // Only kept frames are converted to BGR (doProcessing); the others are decoded and dropped.
                Frame frame = grabber.grabFrame(false, true, keep, false, false);
                if (frame == null) {
                    break;
                }
                // The stream may change its frame size after the header.
                checkFrameSize(grabber.getImageWidth(), grabber.getImageHeight(), name);
                if (keep) {
                    kept.add(new SampledFrame(index, upright(converter.convert(frame), quarterTurns)));
                    next++;
                }
                index++;
            }
            if (kept.isEmpty()) {
                throw new MediaException(MediaException.Kind.UNDECODABLE, name + ": no video frame could be decoded");
            }
            complete = true;
            return new SampledFrames(kept, facts.frameCount(), facts.durationSeconds());
        } catch (FrameGrabber.Exception e) {
            throw new MediaException(MediaException.Kind.UNDECODABLE, name + ": video decoding failed", e);
        } finally {
            if (!complete) {
                kept.forEach(frame -> frame.bgr().close());
            }
        }
    }

    /** A copy of {@code view} turned upright; {@code view} itself belongs to the converter and is overwritten. */
    private static Mat upright(Mat view, int quarterTurnsCounterclockwise) {
        if (quarterTurnsCounterclockwise == 0) {
            return view.clone();
        }
        Mat turned = new Mat();
        rotate(
                view,
                turned,
                switch (quarterTurnsCounterclockwise) {
                    case 1 -> ROTATE_90_COUNTERCLOCKWISE;
                    case 2 -> ROTATE_180;
                    default -> ROTATE_90_CLOCKWISE;
                });
        return turned;
    }

    /**
     * FFmpeg gives the display matrix's rotation as counterclockwise degrees (a portrait phone video usually reads
     * -90). Returns the quarter turns to apply, 0 to 3, or 0 when the angle is not a multiple of 90°.
     */
    static int quarterTurnsCounterclockwise(double degrees) {
        if (Double.isNaN(degrees) || Double.isInfinite(degrees)) {
            return 0;
        }
        long turns = Math.round(degrees / 90);
        if (Math.abs(degrees - turns * 90.0) > 1) {
            return 0;
        }
        return (int) Math.floorMod(turns, 4L);
    }

    private void checkFrameSize(int width, int height, String name) throws MediaException {
        long pixels = (long) width * height;
        if (pixels > limits.maxFramePixels()) {
            throw new MediaException(
                    MediaException.Kind.TOO_LARGE,
                    name + ": video frames are " + width + "x" + height + " (" + pixels + " pixels); the limit is "
                            + limits.maxFramePixels() + " pixels");
        }
    }

    private void checkDeadline(long deadline, String name) throws MediaException {
        if (System.nanoTime() - deadline > 0) {
            throw new MediaException(
                    MediaException.Kind.TOO_LONG,
                    name + ": gave up decoding the video after "
                            + plain(limits.maxDecodeTime().toNanos() / 1e9) + " s (the decoding time limit)");
        }
    }

    private static void closeQuietly(FFmpegFrameGrabber grabber) {
        try {
            grabber.close();
        } catch (FrameGrabber.Exception | RuntimeException e) {
            // Releasing native buffers after a failure: nothing the caller could act on.
        }
    }

    /** {@code seconds} with one decimal, or more when one decimal would not show it is above {@code limit}. */
    private static String secondsAbove(double seconds, double limit) {
        for (int decimals = 1; decimals < 6; decimals++) {
            String text = String.format(Locale.ROOT, "%." + decimals + "f", seconds);
            if (Double.parseDouble(text) > limit) {
                return text;
            }
        }
        return String.format(Locale.ROOT, "%.6f", seconds);
    }

    /** {@code 10.0} as "10", {@code 10.5} as "10.5". */
    private static String plain(double seconds) {
        return BigDecimal.valueOf(seconds).stripTrailingZeros().toPlainString();
    }
}
