package dev.biometry.api;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The head of an Oz analysis object, the same in its PROCESSING, FAILED and final records: identity, {@code params},
 * {@code meta_data} and {@code time_created} (epoch seconds).
 */
public record AnalysisHeader(
        String analyseId, String folderId, AnalysisParams params, JsonNode metaData, double timeCreated) {}
