package dev.biometry.media;

import java.util.List;

/**
 * The frames {@link VideoFrames} sampled from one video, in video order, with what was learnt about the video.
 * Owns the frames' Mats: {@link #close()} releases them all, so use it in try-with-resources.
 */
public final class SampledFrames implements AutoCloseable {

    private final List<SampledFrame> frames;
    private final int videoFrameCount;
    private final double durationSeconds;
    private boolean closed;

    SampledFrames(List<SampledFrame> frames, int videoFrameCount, double durationSeconds) {
        this.frames = List.copyOf(frames);
        this.videoFrameCount = videoFrameCount;
        this.durationSeconds = durationSeconds;
    }

    /** The sampled frames, indices strictly increasing. */
    public List<SampledFrame> frames() {
        return frames;
    }

    public int size() {
        return frames.size();
    }

    /** How many video frames the stream holds (counted from its packets, not taken from the header). */
    public int videoFrameCount() {
        return videoFrameCount;
    }

    /** The duration the container declares or, when it declares none, the span of the frame timestamps. */
    public double durationSeconds() {
        return durationSeconds;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (SampledFrame frame : frames) {
            frame.bgr().close();
        }
    }
}
