package dev.biometry.pipeline;

import dev.biometry.api.AnalysisHeader;
import dev.biometry.api.AnalysisIdentity;

/**
 * What travels with every media of a started analysis so the matcher can finish it alone: the analysis'
 * {@link AnalysisIdentity}, how many media it compares, and which request it belongs to.
 *
 * @param token the request's {@link dev.biometry.api.AnalysisRequest#token() token}: media of another request with
 *     the same analyse id are never mixed with this one's
 * @param claimedAtMillis when {@link ClaimFunction} let the analysis start (a later claim is a newer request)
 * @param backstopAtMillis when the claim's backstop FAILED record goes out if no final record came (0 = none): a
 *     final record arriving later is dropped
 */
public record AnalysisTicket(
        AnalysisIdentity identity, int mediaCount, String token, long claimedAtMillis, long backstopAtMillis) {

    /** A ticket with the identity's fields given one by one. */
    public AnalysisTicket(
            String analyseId,
            String folderId,
            Double threshold,
            Double thresholdMin,
            String metaDataJson,
            String resolutionEndpoint,
            long timeCreatedMillis,
            int mediaCount,
            String token,
            long claimedAtMillis,
            long backstopAtMillis) {
        this(
                new AnalysisIdentity(
                        analyseId,
                        folderId,
                        threshold,
                        thresholdMin,
                        metaDataJson,
                        resolutionEndpoint,
                        timeCreatedMillis),
                mediaCount,
                token,
                claimedAtMillis,
                backstopAtMillis);
    }

    /** A ticket of its own request (token = analyse id), not yet claimed: tests and tools. */
    public AnalysisTicket(
            String analyseId,
            String folderId,
            Double threshold,
            Double thresholdMin,
            String metaDataJson,
            String resolutionEndpoint,
            long timeCreatedMillis,
            int mediaCount) {
        this(
                analyseId,
                folderId,
                threshold,
                thresholdMin,
                metaDataJson,
                resolutionEndpoint,
                timeCreatedMillis,
                mediaCount,
                analyseId,
                0L,
                0L);
    }

    /** This ticket as claimed at {@code claimedAtMillis}, with its backstop time (0 = none). */
    public AnalysisTicket claimed(long claimedAtMillis, long backstopAtMillis) {
        return new AnalysisTicket(identity, mediaCount, token, claimedAtMillis, backstopAtMillis);
    }

    public String analyseId() {
        return identity.analyseId();
    }

    public String folderId() {
        return identity.folderId();
    }

    public String resolutionEndpoint() {
        return identity.resolutionEndpoint();
    }

    /** The analysis' header for its result records. */
    public AnalysisHeader header() {
        return identity.header();
    }
}
