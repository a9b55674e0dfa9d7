package dev.biometry.pipeline;

/**
 * One analysis object for the results topic (key {@code analyseId}), already rendered as Oz JSON, with the
 * fields the folder roll-up and webhooks need.
 */
public record ResultRecord(
        String analyseId, String folderId, String state, String resolutionStatus, String resolutionEndpoint,
        String json) {

    public boolean isFinal() {
        return !"PROCESSING".equals(state);
    }
}
