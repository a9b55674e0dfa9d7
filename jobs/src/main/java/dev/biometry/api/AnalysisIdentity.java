package dev.biometry.api;

/**
 * Who an analysis is and what it was asked, as it travels through the job once its threshold is settled: built from
 * an {@link AnalysisRequest} ({@link AnalysisRequest#identity}), carried by the pipeline's ticket, and shown in the
 * result as its {@link AnalysisHeader}. Plain values only, so Flink serialises it as a POJO.
 *
 * @param threshold the threshold that applies (the request's, else the job's default)
 * @param thresholdMin lower edge of the OPERATOR_REQUIRED band, or null
 * @param metaDataJson the analysis' {@code meta_data} as JSON text, or null
 * @param resolutionEndpoint the request's webhook URL, or null
 * @param timeCreatedMillis when the request was read (epoch ms): the analysis' {@code time_created}
 */
public record AnalysisIdentity(
        String analyseId,
        String folderId,
        Double threshold,
        Double thresholdMin,
        String metaDataJson,
        String resolutionEndpoint,
        long timeCreatedMillis) {

    /** The analysis' identity, parameters, meta data and creation time as results show them. */
    public AnalysisHeader header() {
        AnalysisParams params =
                threshold == null && thresholdMin == null ? null : new AnalysisParams(threshold, thresholdMin);
        return new AnalysisHeader(
                analyseId,
                folderId,
                params,
                Json.parseOrNull(metaDataJson),
                Timestamps.epochSeconds(timeCreatedMillis));
    }
}
