package dev.biometry.api;

/** The latest state and resolution of one analysis of a folder, as the folder roll-up keeps it. */
public record AnalysisStatus(String state, String resolutionStatus, long updatedMillis) {}
