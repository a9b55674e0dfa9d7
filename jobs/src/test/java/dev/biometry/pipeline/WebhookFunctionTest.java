package dev.biometry.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.biometry.api.DeadLetter;
import dev.biometry.net.HttpPoster;
import dev.biometry.testing.WebhookReceiver;
import dev.biometry.webhook.RetryPolicy;
import dev.biometry.webhook.WebhookSender;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link WebhookFunction} in an operator test harness on processing time, sending to real HTTP receivers on
 * 127.0.0.1: what each answer does, the backoff, a {@code Retry-After}, the deadline, refused targets, the bound
 * on attempts in flight, waiting for the checkpoint and a restore; and neither keyed state nor a timer left once a
 * delivery has ended.
 */
class WebhookFunctionTest {

    private static final long T0 = 5_000_000L;
    private static final String ANALYSIS = "an-1";
    private static final String JSON = "{\"analyse_id\":\"an-1\",\"state\":\"FINISHED\",\"note\":\"Zoë\"}";
    private static final RetryPolicy POLICY =
            new RetryPolicy(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(10));

    private WebhookReceiver receiver;
    private RetryPolicy policy = POLICY;
    private int maxPending = 10_000;
    private WebhookFunction function;
    private KeyedOneInputStreamOperatorTestHarness<String, ResultRecord, DeadLetter> harness;

    @AfterEach
    void close() throws Exception {
        if (harness != null) {
            harness.close();
        }
        if (receiver != null) {
            receiver.close();
        }
    }

    @Test
    void aSuccessfulAnswerDeliversTheJsonAndLeavesNothing() throws Exception {
        receiver = WebhookReceiver.answering(204);
        open(loopback(), false, 32);

        harness.processElement(new StreamRecord<>(result(ANALYSIS, endpoint("/hook?tenant=7"))));
        harness.processElement(new StreamRecord<>(result(ANALYSIS, endpoint("/hook?tenant=7")))); // a duplicate
        awaitAttemptThenPoll(ANALYSIS);

        assertThat(harness.extractOutputValues()).isEmpty();
        List<WebhookReceiver.Request> requests = receiver.requests();
        assertThat(requests).hasSize(1);
        assertThat(requests.get(0).pathAndQuery()).isEqualTo("/hook?tenant=7");
        assertThat(requests.get(0).body()).isEqualTo(JSON.getBytes(StandardCharsets.UTF_8));
        assertThat(requests.get(0).header("Idempotency-Key")).isEqualTo(ANALYSIS + ":FINISHED");
        assertThat(requests.get(0).header("X-Biometry-Signature")).startsWith("sha256=");
        assertNothingLeft();
    }

    @Test
    void aServiceUnavailableIsRetriedAfterABackoffThenDelivered() throws Exception {
        receiver = WebhookReceiver.failingFirst(1, 503);
        open(loopback(), false, 32);

        harness.processElement(new StreamRecord<>(result(ANALYSIS, endpoint("/hook"))));
        awaitAttemptThenPoll(ANALYSIS);

        long failedAt = harness.getProcessingTime();
        PendingDelivery waiting = pending(ANALYSIS);
        assertThat(waiting.attempts()).isEqualTo(1);
        assertThat(waiting.lastError()).contains("HTTP 503");
        assertThat(waiting.nextAttemptAt() - failedAt)
                .as("first backoff, jittered")
                .isBetween(500L, 1_000L);
        assertThat(waiting.timerAt()).isEqualTo(waiting.nextAttemptAt());
        assertThat(harness.numProcessingTimeTimers()).isEqualTo(1);

        harness.setProcessingTime(waiting.nextAttemptAt() - 1);
        assertThat(receiver.requests()).hasSize(1);
        harness.setProcessingTime(waiting.nextAttemptAt());
        awaitAttemptThenPoll(ANALYSIS);

        assertThat(receiver.requests()).hasSize(2);
        assertThat(receiver.requests().get(1).body())
                .isEqualTo(receiver.requests().get(0).body());
        assertThat(harness.extractOutputValues()).isEmpty();
        assertNothingLeft();
    }

    /**
     * A 429 asking for longer than the backoff gets what it asked for; asking for more than the maximum backoff gets
     * the maximum; and no attempt is scheduled past the deadline.
     */
    @Test
    void aTooManyRequestsIsRetriedNoEarlierThanItsRetryAfterCappedByMaxBackoffAndDeadline() throws Exception {
        policy = new RetryPolicy(Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofSeconds(12));
        long deadline = T0 + 12_000;
        receiver = WebhookReceiver.answering(429)
                .withResponseHeaders((n, r) -> Map.of("Retry-After", n == 1 ? "3" : "60"));
        open(loopback(), false, 32);

        harness.processElement(new StreamRecord<>(result(ANALYSIS, endpoint("/hook"))));
        awaitAttemptThenPoll(ANALYSIS);
        // backoff after one failure: 0.5 to 1 s; Retry-After: 3 s
        long next = harness.getProcessingTime() + 3_000;
        assertNextAttemptAt(next, "HTTP 429");
        harness.setProcessingTime(next - 1);
        assertThat(receiver.requests()).as("not before the Retry-After").hasSize(1);
        harness.setProcessingTime(next);
        awaitAttemptThenPoll(ANALYSIS);
        assertThat(receiver.requests()).hasSize(2);

        // Retry-After: 60 s, capped at the maximum backoff of 5 s (the own backoff is at most 2 s)
        next = harness.getProcessingTime() + 5_000;
        assertThat(next).isLessThan(deadline);
        assertNextAttemptAt(next, "HTTP 429");
        harness.setProcessingTime(next);
        awaitAttemptThenPoll(ANALYSIS);

        // 5 s more would pass the deadline: the last attempt is at the deadline, then the delivery fails
        assertThat(harness.getProcessingTime() + 5_000).isGreaterThan(deadline);
        assertNextAttemptAt(deadline, "HTTP 429");
        harness.setProcessingTime(deadline);
        awaitAttemptThenPoll(ANALYSIS);

        assertThat(receiver.requests()).hasSize(4);
        List<DeadLetter> out = harness.extractOutputValues();
        assertThat(out).hasSize(1);
        assertThat(out.get(0).errorMessage())
                .isEqualTo("EXTERNAL SERVICE: webhook not delivered within 12s " + "(4 attempts); last: HTTP 429 from "
                        + endpoint("/hook"));
        assertNothingLeft();
    }

    @Test
    void aGoneAnswerIsADeadLetterAndLeavesNothing() throws Exception {
        receiver = WebhookReceiver.answering(410);
        open(loopback(), false, 32);

        harness.processElement(new StreamRecord<>(result(ANALYSIS, endpoint("/hook?sig=s3cr3t"))));
        awaitAttemptThenPoll(ANALYSIS);

        List<DeadLetter> out = harness.extractOutputValues();
        assertThat(out).hasSize(1);
        DeadLetter dead = out.get(0);
        assertThat(dead.errorCode()).isEqualTo(11);
        assertThat(dead.errorMessage())
                .startsWith("EXTERNAL SERVICE: webhook rejected after 1 attempt")
                .contains("HTTP 410")
                .doesNotContain("s3cr3t");
        assertThat(dead.details()).isEqualTo(endpoint("/hook"));
        assertThat(dead.payload()).isEqualTo(JSON);
        assertThat(dead.payloadBase64()).isFalse();
        assertThat(dead.sourceTopic()).isEqualTo("biometry.results");
        assertThat(receiver.requests()).hasSize(1);
        assertNothingLeft();
    }

    @Test
    void aDeliveryStillFailingAtTheDeadlineIsADeadLetter() throws Exception {
        receiver = WebhookReceiver.answering(503);
        open(loopback(), false, 32);

        harness.processElement(new StreamRecord<>(result(ANALYSIS, endpoint("/hook"))));
        for (int step = 0; harness.extractOutputValues().isEmpty(); step++) {
            assertThat(step).as("attempts before the deadline").isLessThan(40);
            awaitAttemptThenPoll(ANALYSIS);
            PendingDelivery waiting = pending(ANALYSIS);
            if (waiting != null) {
                assertThat(waiting.nextAttemptAt())
                        .isLessThanOrEqualTo(T0 + POLICY.deadline().toMillis());
                harness.setProcessingTime(waiting.nextAttemptAt());
            }
        }

        int attempts = receiver.requests().size();
        assertThat(attempts).isBetween(5, 20);
        assertThat(harness.getProcessingTime())
                .isGreaterThanOrEqualTo(T0 + POLICY.deadline().toMillis());
        DeadLetter dead = harness.extractOutputValues().get(0);
        assertThat(dead.errorCode()).isEqualTo(11);
        assertThat(dead.errorMessage())
                .isEqualTo("EXTERNAL SERVICE: webhook not delivered within 10s (" + attempts
                        + " attempts); last: HTTP 503 from " + endpoint("/hook"));
        assertThat(dead.payload()).isEqualTo(JSON);
        assertNothingLeft();
    }

    @Test
    void refusedTargetsAreDeadLettersWithoutAttempts() throws Exception {
        receiver = WebhookReceiver.answering(200);
        HttpPoster strict = HttpPoster.builder()
                .allowHosts(List.of("localhost", "127.0.0.1"))
                .build();
        open(strict, false, 32);

        // refused at once: plain http; a private IP literal
        harness.processElement(new StreamRecord<>(result("an-http", endpoint("/hook?sig=s3cr3t"))));
        String byIp = endpoint("/hook").replace("http:", "https:");
        harness.processElement(new StreamRecord<>(result("an-ip", byIp)));
        assertThat(harness.numKeyedStateEntries()).isZero();
        // refused once the name is resolved (to loopback), before connecting
        String byName = receiver.url("localhost", "/hook").replace("http:", "https:");
        harness.processElement(new StreamRecord<>(result("an-name", byName)));
        awaitAttemptThenPoll("an-name");

        List<DeadLetter> out = harness.extractOutputValues();
        assertThat(out).extracting(DeadLetter::errorCode).containsExactly(4, 4, 4);
        assertThat(out.get(0).errorMessage())
                .startsWith("INVALID VALUE: webhook endpoint refused: ")
                .contains("scheme 'http' is not allowed")
                .doesNotContain("s3cr3t");
        assertThat(out.get(0).details()).isEqualTo(endpoint("/hook"));
        assertThat(out.get(1).errorMessage()).contains("non-public address");
        assertThat(out.get(1).details()).isEqualTo(byIp);
        assertThat(out.get(2).errorMessage()).contains("non-public address");
        assertThat(out.get(2).details()).isEqualTo(byName);
        assertThat(out).extracting(DeadLetter::payload).containsOnly(JSON);
        assertThat(receiver.requests()).isEmpty();
        assertNothingLeft();
    }

    @Test
    void noMoreAttemptsInFlightThanAllowed() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        receiver = new WebhookReceiver((n, request) -> {
            if (request.pathAndQuery().equals("/slow")) {
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return 200;
        });
        open(loopback(), false, 1);

        harness.processElement(new StreamRecord<>(result("an-slow", endpoint("/slow"))));
        harness.processElement(new StreamRecord<>(result("an-next", endpoint("/next"))));
        for (int i = 0; i < 10; i++) {
            harness.setProcessingTime(harness.getProcessingTime() + WebhookFunction.POLL_MILLIS);
        }
        assertThat(receiver.requests("/next")).as("waits for a free sender").isEmpty();
        assertThat(pending("an-next").attempts()).isZero();

        release.countDown();
        awaitAttemptThenPoll("an-slow");
        harness.setProcessingTime(pending("an-next").timerAt());
        awaitAttemptThenPoll("an-next");

        assertThat(receiver.requests())
                .extracting(WebhookReceiver.Request::pathAndQuery)
                .containsExactly("/slow", "/next");
        assertNothingLeft();
    }

    /**
     * Nothing is sent before a checkpoint holding the result completes; an attempt in flight at a snapshot is made
     * again after the restore and delivers.
     */
    @Test
    void waitsForTheCheckpointAndResendsAnAttemptInFlightAfterARestore() throws Exception {
        receiver = WebhookReceiver.answering(200);
        open(loopback(), true, 32);

        harness.processElement(new StreamRecord<>(result(ANALYSIS, endpoint("/hook"))));
        harness.setProcessingTime(T0 + 2_000);
        assertThat(receiver.requests()).as("before any checkpoint").isEmpty();
        harness.snapshot(1, T0 + 2_000);
        harness.setProcessingTime(T0 + 4_000);
        assertThat(receiver.requests()).as("checkpoint taken, not complete").isEmpty();

        harness.notifyOfCompletedCheckpoint(1);
        harness.setProcessingTime(T0 + 4_000 + WebhookFunction.POLL_MILLIS);
        receiver.await("/hook", l -> l.size() == 1, Duration.ofSeconds(10));
        assertThat(pending(ANALYSIS).attempts()).isEqualTo(1);
        // The job goes down with the attempt's result not yet picked up.
        OperatorSubtaskState snapshot = harness.snapshot(2, T0 + 4_200);
        harness.close();

        open(loopback(), true, 32, snapshot, 2);
        harness.setProcessingTime(T0 + 5_000);
        awaitAttemptThenPoll(ANALYSIS);

        List<WebhookReceiver.Request> requests = receiver.requests();
        assertThat(requests).hasSize(2);
        assertThat(requests.get(1).body()).isEqualTo(requests.get(0).body());
        assertThat(requests.get(1).header("Idempotency-Key"))
                .isEqualTo(requests.get(0).header("Idempotency-Key"));
        assertThat(harness.extractOutputValues()).isEmpty();
        assertNothingLeft();
    }

    /**
     * With {@code maxPending} deliveries pending in the slot, a further result goes to the dead-letter output at
     * once (error 11, nothing sent, no state kept); the count survives a restore; once a delivery ends there is
     * room again.
     */
    @Test
    void aFullQueueDeadLettersANewDeliveryAtOnceAndTheCountSurvivesARestore() throws Exception {
        receiver = WebhookReceiver.answering(503); // every attempt is retried: deliveries stay pending
        maxPending = 2;
        open(loopback(), false, 32);

        harness.processElement(new StreamRecord<>(result("an-1", endpoint("/one"))));
        harness.processElement(new StreamRecord<>(result("an-2", endpoint("/two"))));
        harness.processElement(new StreamRecord<>(result("an-3", endpoint("/three"))));

        List<DeadLetter> dead = harness.extractOutputValues();
        assertThat(dead).singleElement().satisfies(d -> {
            assertThat(d.errorCode()).isEqualTo(11);
            assertThat(d.errorMessage())
                    .startsWith("EXTERNAL SERVICE: webhook queue full (2 deliveries pending")
                    .contains("--webhook-max-pending 2");
            assertThat(d.payload()).isEqualTo(JSON);
        });
        assertThat(pending("an-3")).as("nothing kept for the refused delivery").isNull();
        assertThat(pending("an-1")).isNotNull();
        assertThat(pending("an-2")).isNotNull();

        // A restore keeps the count: the queue is still full.
        OperatorSubtaskState snapshot = harness.snapshot(1, T0);
        harness.close();
        receiver.close();
        receiver = WebhookReceiver.answering(200);
        open(loopback(), false, 32, snapshot, 1);
        harness.processElement(new StreamRecord<>(result("an-4", endpoint("/four"))));
        assertThat(harness.extractOutputValues())
                .singleElement()
                .satisfies(d -> assertThat(d.errorMessage()).contains("webhook queue full"));

        // The restored deliveries (to the first receiver, now gone) end at their deadline; then a new one is taken.
        harness.setProcessingTime(T0 + POLICY.deadline().toMillis() + 1);
        harness.setProcessingTime(harness.getProcessingTime() + WebhookFunction.POLL_MILLIS);
        int before = harness.extractOutputValues().size();
        assertThat(before).as("an-4 refused, an-1 and an-2 given up").isEqualTo(3);
        harness.processElement(new StreamRecord<>(result("an-5", endpoint("/five"))));
        assertThat(harness.extractOutputValues()).as("taken, not dead-lettered").hasSize(before);
        assertThat(pending("an-5")).isNotNull();
    }

    // ---- helpers

    private HttpPoster loopback() {
        return HttpPoster.builder()
                .allowHosts(List.of("127.0.0.1"))
                .allowPlainHttp(true)
                .allowPrivateAddresses(true)
                .timeout(Duration.ofSeconds(5))
                .build();
    }

    private void open(HttpPoster poster, boolean waitForCheckpoint, int maxInFlight) throws Exception {
        open(poster, waitForCheckpoint, maxInFlight, null, 0);
    }

    private void open(
            HttpPoster poster,
            boolean waitForCheckpoint,
            int maxInFlight,
            OperatorSubtaskState restored,
            long restoredCheckpointId)
            throws Exception {
        function = new WebhookFunction(
                new WebhookSender(poster, "harness-secret"),
                policy,
                maxInFlight,
                waitForCheckpoint,
                "biometry.results",
                maxPending);
        harness = new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(function), ResultRecord::analyseId, Types.STRING);
        harness.setup();
        if (restored != null) {
            harness.setRestoredCheckpointId(restoredCheckpointId);
            harness.initializeState(restored);
        }
        harness.open();
        harness.setProcessingTime(T0);
    }

    private String endpoint(String path) {
        return receiver.url("127.0.0.1", path);
    }

    private static ResultRecord result(String analyseId, String endpoint) {
        return new ResultRecord(analyseId, "folder-1", "FINISHED", "SUCCESS", endpoint, JSON);
    }

    /** Waits (real time) until the attempt in flight has an answer, then lets the poll timer pick it up. */
    private void awaitAttemptThenPoll(String analyseId) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!function.attemptFinished(analyseId)) {
            assertThat(System.nanoTime())
                    .as("attempt of %s finished", analyseId)
                    .isLessThan(deadline);
            Thread.sleep(5);
        }
        harness.setProcessingTime(harness.getProcessingTime() + WebhookFunction.POLL_MILLIS);
    }

    private PendingDelivery pending(String analyseId) throws Exception {
        harness.getOperator().setCurrentKey(analyseId);
        return harness.getOperator()
                .getKeyedStateStore()
                .getState(new ValueStateDescriptor<>("pending-delivery", TypeInformation.of(PendingDelivery.class)))
                .value();
    }

    /** The delivery waits for its next attempt at {@code at}, with one processing-time timer there. */
    private void assertNextAttemptAt(long at, String lastError) throws Exception {
        PendingDelivery waiting = pending(ANALYSIS);
        assertThat(waiting.lastError()).contains(lastError);
        assertThat(waiting.nextAttemptAt()).isEqualTo(at);
        assertThat(waiting.timerAt()).isEqualTo(at);
        assertThat(harness.numProcessingTimeTimers()).isEqualTo(1);
        assertThat(harness.getProcessingTimeService().getActiveTimerTimestamps())
                .containsExactly(at);
    }

    private void assertNothingLeft() throws Exception {
        assertThat(pending(ANALYSIS)).isNull();
        assertThat(harness.numKeyedStateEntries()).isZero();
        assertThat(harness.numProcessingTimeTimers()).isZero();
    }
}
