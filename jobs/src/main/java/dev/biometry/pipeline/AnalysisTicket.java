package dev.biometry.pipeline;

/**
 * What travels with every media of a started analysis so the matcher can finish it alone: the analysis'
 * identity, parameters, creation time and how many media it compares, and which request it belongs to.
 *
 * @param token the request's {@link dev.biometry.api.AnalysisRequest#token() token}: media of another request with
 *     the same analyse id are never mixed with this one's
 * @param claimedAtMillis when {@link ClaimFunction} let the analysis start (a later claim is a newer request)
 * @param backstopAtMillis when the claim's backstop FAILED record goes out if no final record came (0 = none): a
 *     final record arriving later is dropped
 */
public record AnalysisTicket(
        String analyseId, String folderId, Double threshold, Double thresholdMin, String metaDataJson,
        String resolutionEndpoint, long timeCreatedMillis, int mediaCount, String token, long claimedAtMillis,
        long backstopAtMillis) {

    /** A ticket of its own request (token = analyse id), not yet claimed: tests and tools. */
    public AnalysisTicket(String analyseId, String folderId, Double threshold, Double thresholdMin, String metaDataJson,
            String resolutionEndpoint, long timeCreatedMillis, int mediaCount) {
        this(analyseId, folderId, threshold, thresholdMin, metaDataJson, resolutionEndpoint, timeCreatedMillis,
                mediaCount, analyseId, 0L, 0L);
    }

    /** This ticket as claimed at {@code claimedAtMillis}, with its backstop time (0 = none). */
    public AnalysisTicket claimed(long claimedAtMillis, long backstopAtMillis) {
        return new AnalysisTicket(analyseId, folderId, threshold, thresholdMin, metaDataJson, resolutionEndpoint,
                timeCreatedMillis, mediaCount, token, claimedAtMillis, backstopAtMillis);
    }
}
