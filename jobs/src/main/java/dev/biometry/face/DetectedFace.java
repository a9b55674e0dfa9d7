package dev.biometry.face;

/** One face found by the detector: its box in image pixels and the detector's face probability. */
public record DetectedFace(Box box, float score) {}
