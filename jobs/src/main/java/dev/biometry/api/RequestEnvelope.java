package dev.biometry.api;

/**
 * One message of the requests topic after validation: the media it carries inline (joined to the folder first)
 * and the analyses it asks for, all on one folder.
 */
public record RequestEnvelope(String folderId, MediaRef[] media, AnalysisRequest[] analyses) {}
