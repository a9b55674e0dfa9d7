package dev.biometry.media;

import java.io.Serializable;
import java.time.Duration;

/**
 * Bounds on the videos {@link VideoFrames} accepts and on the work it spends on one.
 *
 * @param maxDuration longest video accepted; checked against the container header before any frame is decoded,
 *     and against the packet timestamps when the header gives no duration
 * @param maxFramePixels largest frame accepted, width × height; checked before any frame is decoded
 * @param maxFramesRead most video frames read from one video; a video with more is refused
 * @param maxDecodeTime wall-clock budget for sampling one video, from opening it to the last kept frame
 */
public record VideoLimits(Duration maxDuration, long maxFramePixels, int maxFramesRead, Duration maxDecodeTime)
        implements Serializable {

    /**
     * 10 s; 1920 × 1080 = 2,073,600 pixels (either orientation); 1,200 frames (10 s at 120 fps); 15 s of wall clock.
     */
    public static final VideoLimits DEFAULTS =
            new VideoLimits(Duration.ofSeconds(10), 1920L * 1080, 1200, Duration.ofSeconds(15));

    public VideoLimits {
        if (maxDuration == null || maxDuration.isNegative() || maxDuration.isZero()) {
            throw new IllegalArgumentException("maxDuration must be positive: " + maxDuration);
        }
        if (maxFramePixels <= 0) {
            throw new IllegalArgumentException("maxFramePixels must be positive: " + maxFramePixels);
        }
        if (maxFramesRead <= 0) {
            throw new IllegalArgumentException("maxFramesRead must be positive: " + maxFramesRead);
        }
        if (maxDecodeTime == null || maxDecodeTime.isNegative() || maxDecodeTime.isZero()) {
            throw new IllegalArgumentException("maxDecodeTime must be positive: " + maxDecodeTime);
        }
    }
}
