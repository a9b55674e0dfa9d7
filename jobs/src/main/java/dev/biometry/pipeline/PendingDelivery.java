package dev.biometry.pipeline;

/**
 * A webhook delivery kept in keyed state (key: analyse id) by {@link WebhookFunction} until it ends. Times are
 * processing time in epoch milliseconds.
 *
 * @param json the analysis JSON, sent as the body exactly as written to the results topic
 * @param endpoint the request's {@code resolution_endpoint}
 * @param state the analysis state ({@code FINISHED} or {@code FAILED})
 * @param afterCheckpoint the last checkpoint this operator had taken when the result arrived: sending waits until a
 *     later checkpoint, which holds the result, has completed (when checkpointing is on)
 * @param attempts attempts started so far
 * @param firstAttemptAt when the first attempt started (meaningful once {@code attempts > 0})
 * @param nextAttemptAt when the next attempt may start
 * @param deadline after this, no attempt starts and the delivery goes to the dead-letter topic
 * @param timerAt the one processing-time timer registered for this delivery (0: none)
 * @param lastError why the last attempt failed, or null
 */
public record PendingDelivery(
        String json,
        String endpoint,
        String state,
        long afterCheckpoint,
        int attempts,
        long firstAttemptAt,
        long nextAttemptAt,
        long deadline,
        long timerAt,
        String lastError) {

    PendingDelivery withTimerAt(long at) {
        return new PendingDelivery(
                json,
                endpoint,
                state,
                afterCheckpoint,
                attempts,
                firstAttemptAt,
                nextAttemptAt,
                deadline,
                at,
                lastError);
    }

    PendingDelivery withAttemptStarted(long now) {
        return new PendingDelivery(
                json,
                endpoint,
                state,
                afterCheckpoint,
                attempts + 1,
                attempts == 0 ? now : firstAttemptAt,
                nextAttemptAt,
                deadline,
                timerAt,
                lastError);
    }

    PendingDelivery withRetryAt(long at, String error) {
        return new PendingDelivery(
                json, endpoint, state, afterCheckpoint, attempts, firstAttemptAt, at, deadline, timerAt, error);
    }
}
