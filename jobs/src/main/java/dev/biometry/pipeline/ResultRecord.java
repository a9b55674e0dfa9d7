package dev.biometry.pipeline;

/**
 * One analysis object for the results topic (key {@code analyseId}), already rendered as Oz JSON, with the
 * fields the folder roll-up and webhooks need.
 *
 * @param token the request the record belongs to ({@link AnalysisTicket#token()}), or null; never published
 * @param lateAfterMillis a final record reaching {@link ResultOrderFunction} after this time (0 = never) while its
 *     PROCESSING record is not there is late: its analysis' backstop already answered, so it is dropped
 * @param backstop true for the claim's backstop FAILED record: published only if no final record came before it
 */
public record ResultRecord(
        String analyseId,
        String folderId,
        String state,
        String resolutionStatus,
        String resolutionEndpoint,
        String json,
        String token,
        long lateAfterMillis,
        boolean backstop) {

    /** A record outside any claimed request (tests, tools). */
    public ResultRecord(
            String analyseId,
            String folderId,
            String state,
            String resolutionStatus,
            String resolutionEndpoint,
            String json) {
        this(analyseId, folderId, state, resolutionStatus, resolutionEndpoint, json, null, 0L, false);
    }

    public boolean isFinal() {
        return !"PROCESSING".equals(state);
    }

    /** This record as part of the request {@code token}. */
    ResultRecord forRequest(String token, long lateAfterMillis, boolean backstop) {
        return new ResultRecord(
                analyseId,
                folderId,
                state,
                resolutionStatus,
                resolutionEndpoint,
                json,
                token,
                lateAfterMillis,
                backstop);
    }

    /** The same record with {@code json} replaced (a bounded stand-in of an oversized record). */
    ResultRecord withJson(String state, String resolutionStatus, String json) {
        return new ResultRecord(
                analyseId,
                folderId,
                state,
                resolutionStatus,
                resolutionEndpoint,
                json,
                token,
                lateAfterMillis,
                backstop);
    }
}
