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
 * @param source the requests-topic record this analysis came from (names it in a dead letter), or null
 */
public record AnalysisRequest(
        String folderId,
        String analyseId,
        String[] sourceMedia,
        Double threshold,
        Double thresholdMin,
        String metaDataJson,
        String resolutionEndpoint,
        long requestedAtMillis,
        SourceRef source) {

    /** A request without a known source record (tests, tools). */
    public AnalysisRequest(
            String folderId,
            String analyseId,
            String[] sourceMedia,
            Double threshold,
            Double thresholdMin,
            String metaDataJson,
            String resolutionEndpoint,
            long requestedAtMillis) {
        this(
                folderId,
                analyseId,
                sourceMedia,
                threshold,
                thresholdMin,
                metaDataJson,
                resolutionEndpoint,
                requestedAtMillis,
                null);
    }

    /**
     * What tells this request apart from any other request with the same {@code analyse_id}: its source record
     * (topic, partition, offset; one record holds each analyse_id at most once) and its folder. Two requests with
     * one analyse_id never share a token, so state keyed by it cannot be overwritten by the other request.
     */
    public String token() {
        String where = source == null ? "-" : source.topic() + "/" + source.partition() + "/" + source.offset();
        return where + "@" + requestedAtMillis + "/" + folderId;
    }

    /** This analysis' identity, with {@code defaultThreshold} when the request gives no threshold. */
    public AnalysisIdentity identity(double defaultThreshold) {
        return new AnalysisIdentity(
                analyseId,
                folderId,
                threshold != null ? threshold : defaultThreshold,
                thresholdMin,
                metaDataJson,
                resolutionEndpoint,
                requestedAtMillis);
    }
}
