package dev.biometry.pipeline;

/** A folder object for the folders topic (key {@code folderId}), rendered as JSON. */
public record FolderRecord(String folderId, String resolutionStatus, String json) {}
