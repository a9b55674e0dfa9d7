package dev.biometry.media;

import org.bytedeco.opencv.opencv_core.Mat;

/**
 * One frame taken from a video: its 0-based position among the video's frames in display order, and an 8-bit BGR
 * copy of its pixels, upright. The Mat is owned by whoever holds the frame (usually a {@link SampledFrames}).
 */
public record SampledFrame(int index, Mat bgr) {}
