package dev.biometry.api;

/**
 * One requested BIOMETRY analysis on a folder.
 *
 * @param analyseId given by the client ({@code analyse_id} or {@code analysis_id}) or generated
 * @param sourceMedia media ids in scope, or null for every eligible media of the folder
 * @param threshold confidence needed for SUCCESS, or null for the default 0.85
 * @param thresholdMin lower edge of the OPERATOR_REQUIRED band, or null for none
 * @param metaDataJson the analysis' {@code meta_data} as JSON text, or null
 * @param resolutionEndpoint the request's webhook URL, or null
 * @param requestedAtMillis when the request was read (epoch ms): the analysis' {@code time_created}
 */
public record AnalysisRequest(
        String folderId, String analyseId, String[] sourceMedia, Double threshold, Double thresholdMin,
        String metaDataJson, String resolutionEndpoint, long requestedAtMillis) {}
