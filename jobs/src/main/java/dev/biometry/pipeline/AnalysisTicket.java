package dev.biometry.pipeline;

/**
 * What travels with every media of a started analysis so the matcher can finish it alone: the analysis'
 * identity, parameters, creation time and how many media it compares.
 */
public record AnalysisTicket(
        String analyseId, String folderId, Double threshold, Double thresholdMin, String metaDataJson,
        String resolutionEndpoint, long timeCreatedMillis, int mediaCount) {}
