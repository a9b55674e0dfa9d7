package dev.biometry.pipeline;

import dev.biometry.api.DeadLetter;
import dev.biometry.api.OzError;
import dev.biometry.net.TargetPolicy;
import dev.biometry.net.TargetRefusedException;
import dev.biometry.webhook.RetryPolicy;
import dev.biometry.webhook.WebhookSender;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.TimerService;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Delivers final analysis results (keyed by analyse id) to their {@code resolution_endpoint} with
 * {@link WebhookSender}, retrying with backoff (or a longer {@code Retry-After} of the receiver, see
 * {@link RetryPolicy#delayMillis}) until delivered, rejected, refused or past the deadline; the last
 * three go to the dead-letter output (error 4 for a refused endpoint, 11 otherwise) with the analysis as payload.
 *
 * <ul>
 *   <li><b>Threading.</b> HTTP never runs on the operator thread: an attempt is submitted to a pool of at most
 *       {@code maxInFlight} threads per subtask (when all are busy the delivery waits on a short timer) and its
 *       result is picked up on the operator thread by a poll timer every {@value #POLL_MILLIS} ms.
 *   <li><b>State.</b> One {@link PendingDelivery} per analysis in keyed state and exactly one processing-time timer;
 *       both are removed when the delivery ends. Deliveries therefore survive failures and restarts with the
 *       checkpoint; an attempt that was in flight when the job went down is simply made again (receivers
 *       deduplicate with the {@code Idempotency-Key}).
 *   <li><b>Bounded.</b> At most {@code maxPending} deliveries per subtask are pending (each keeps its result
 *       JSON for up to the deadline); a final result arriving when that many are pending is not sent but goes to
 *       the dead-letter output at once (error 11, "webhook queue full ...", metric {@code webhooksQueueFull}). The
 *       count is operator state: exact across restarts, an even share of the total after a change of parallelism
 *       (keyed deliveries are then redistributed by key).
 *   <li><b>Only committed results.</b> With checkpointing on, the first attempt waits until a checkpoint taken
 *       after the result arrived has completed: the result is then committed to the results topic as well, so a
 *       receiver never gets a result that a failure replaces by a recomputed one, and the body is the committed
 *       record byte for byte. This adds up to one checkpoint interval, the same delay {@code read_committed}
 *       consumers of the results topic see.
 * </ul>
 */
public class WebhookFunction extends KeyedProcessFunction<String, ResultRecord, DeadLetter>
        implements CheckpointedFunction, CheckpointListener {

    private static final long serialVersionUID = 1L;

    /** How often a delivery looks for the result of its attempt or for the checkpoint it waits for. */
    static final long POLL_MILLIS = 100;
    /** Least wait (plus as much again at random) for a free sender thread. */
    static final long BUSY_WAIT_MILLIS = 200;

    private final WebhookSender sender;
    private final RetryPolicy retryPolicy;
    private final int maxInFlight;
    private final int maxPending;
    private final boolean waitForCheckpoint;
    private final String resultsTopic;

    private transient ValueState<PendingDelivery> pending;
    private transient ListState<Tuple2<Integer, Long>> pendingCountState;
    /** Deliveries of this subtask that are pending (have keyed state). */
    private transient long pendingCount;

    private transient ThreadPoolExecutor executor;
    private transient Map<String, Future<WebhookSender.Result>> inFlight;
    private transient long lastSnapshotId;
    private transient long lastCompletedId;
    private transient Counter delivered;
    private transient Counter retries;
    private transient Counter failed;
    private transient Histogram latencyMs;
    private transient Counter queueFull;

    /**
     * @param waitForCheckpoint whether attempts wait for a completed checkpoint holding the result (checkpointing
     *     on); without checkpointing the first attempt starts at once
     * @param resultsTopic named as the source of the dead letters (their payload is a results record)
     * @param maxPending most deliveries pending in one subtask; more are dead-lettered at once
     */
    public WebhookFunction(
            WebhookSender sender,
            RetryPolicy retryPolicy,
            int maxInFlight,
            boolean waitForCheckpoint,
            String resultsTopic,
            int maxPending) {
        if (maxInFlight < 1 || maxPending < 1) {
            throw new IllegalArgumentException("maxInFlight and maxPending must be >= 1");
        }
        this.sender = sender;
        this.retryPolicy = retryPolicy;
        this.maxInFlight = maxInFlight;
        this.maxPending = maxPending;
        this.waitForCheckpoint = waitForCheckpoint;
        this.resultsTopic = resultsTopic;
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        // Restored deliveries were in a completed checkpoint: they may be sent at once.
        long restored = context.getRestoredCheckpointId().orElse(0L);
        lastSnapshotId = restored;
        lastCompletedId = restored;
        // Union state: every subtask sees every subtask's (index, count) and picks its own, or a share of the total
        // when the parallelism changed.
        pendingCountState = context.getOperatorStateStore()
                .getUnionListState(
                        new ListStateDescriptor<>("pending-delivery-count", Types.TUPLE(Types.INT, Types.LONG)));
        int index = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        int parallelism = getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks();
        long total = 0;
        int entries = 0;
        Long own = null;
        for (Tuple2<Integer, Long> entry : pendingCountState.get()) {
            entries++;
            total += entry.f1;
            if (entry.f0 == index) {
                own = entry.f1;
            }
        }
        pendingCount = entries == parallelism && own != null ? own : (total + parallelism - 1) / parallelism;
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        lastSnapshotId = context.getCheckpointId();
        pendingCountState.update(
                java.util.List.of(Tuple2.of(getRuntimeContext().getTaskInfo().getIndexOfThisSubtask(), pendingCount)));
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {
        lastCompletedId = Math.max(lastCompletedId, checkpointId);
    }

    @Override
    public void open(OpenContext openContext) {
        pending = getRuntimeContext()
                .getState(new ValueStateDescriptor<>("pending-delivery", TypeInformation.of(PendingDelivery.class)));
        executor = new ThreadPoolExecutor(
                maxInFlight, maxInFlight, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(r, "webhook-sender");
                    t.setDaemon(true);
                    return t;
                });
        executor.allowCoreThreadTimeOut(true);
        inFlight = new HashMap<>();
        MetricGroup metrics = getRuntimeContext().getMetricGroup();
        delivered = metrics.counter("webhooksDelivered");
        retries = metrics.counter("webhookRetries");
        failed = metrics.counter("webhooksFailed");
        latencyMs = metrics.histogram("webhookLatencyMs", new DescriptiveStatisticsHistogram(1000));
        queueFull = metrics.counter("webhooksQueueFull");
        metrics.gauge("webhooksPending", () -> pendingCount);
    }

    @Override
    public void processElement(ResultRecord result, Context ctx, Collector<DeadLetter> out) throws Exception {
        if (!result.isFinal() || result.resolutionEndpoint() == null) {
            return;
        }
        if (pending.value() != null) {
            // One final record per analysis: this one is already being delivered.
            return;
        }
        try {
            sender.checkTarget(result.resolutionEndpoint());
        } catch (TargetRefusedException e) {
            fail(
                    out,
                    OzError.INVALID_VALUE,
                    "INVALID VALUE: webhook endpoint refused: " + e.getMessage(),
                    result.resolutionEndpoint(),
                    result.json());
            return;
        }
        if (pendingCount >= maxPending) {
            queueFull.inc();
            fail(
                    out,
                    OzError.EXTERNAL_SERVICE,
                    "EXTERNAL SERVICE: webhook queue full (" + pendingCount
                            + " deliveries pending in this slot, --webhook-max-pending " + maxPending + "): not sent",
                    result.resolutionEndpoint(),
                    result.json());
            return;
        }
        pendingCount++;
        long now = ctx.timerService().currentProcessingTime();
        PendingDelivery delivery = new PendingDelivery(
                result.json(),
                result.resolutionEndpoint(),
                result.state(),
                lastSnapshotId,
                0,
                0,
                now,
                now + retryPolicy.deadline().toMillis(),
                0,
                null);
        advance(ctx.getCurrentKey(), delivery, now, ctx.timerService(), out);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<DeadLetter> out) throws Exception {
        PendingDelivery delivery = pending.value();
        if (delivery != null) {
            advance(ctx.getCurrentKey(), delivery, ctx.timerService().currentProcessingTime(), ctx.timerService(), out);
        }
    }

    /** Moves a delivery on: picks up a finished attempt, starts a due one, or waits on a timer. */
    private void advance(
            String analyseId, PendingDelivery delivery, long now, TimerService timers, Collector<DeadLetter> out)
            throws Exception {
        Future<WebhookSender.Result> attempt = inFlight.get(analyseId);
        if (attempt != null) {
            if (attempt.isDone()) {
                inFlight.remove(analyseId);
                attemptDone(delivery, resultOf(attempt), now, timers, out);
            } else {
                arm(delivery, now + POLL_MILLIS, timers);
            }
            return;
        }
        if (now > delivery.deadline()) {
            giveUp(delivery, timers, out);
        } else if (waitForCheckpoint && lastCompletedId <= delivery.afterCheckpoint()) {
            arm(delivery, now + POLL_MILLIS, timers); // not committed yet
        } else if (now < delivery.nextAttemptAt()) {
            arm(delivery, delivery.nextAttemptAt(), timers);
        } else if (inFlight.size() >= maxInFlight) {
            arm(delivery, now + BUSY_WAIT_MILLIS + ThreadLocalRandom.current().nextLong(BUSY_WAIT_MILLIS + 1), timers);
        } else {
            String endpoint = delivery.endpoint();
            String state = delivery.state();
            byte[] body = delivery.json().getBytes(StandardCharsets.UTF_8);
            inFlight.put(
                    analyseId,
                    executor.submit(() -> sender.send(
                            endpoint, analyseId, state, body, Instant.now().getEpochSecond())));
            arm(delivery.withAttemptStarted(now), now + POLL_MILLIS, timers);
        }
    }

    private void attemptDone(
            PendingDelivery delivery,
            WebhookSender.Result result,
            long now,
            TimerService timers,
            Collector<DeadLetter> out)
            throws Exception {
        switch (result.outcome()) {
            case DELIVERED -> {
                delivered.inc();
                latencyMs.update(now - delivery.firstAttemptAt());
                clear(delivery, timers);
            }
            case REJECTED -> {
                clear(delivery, timers);
                fail(
                        out,
                        OzError.EXTERNAL_SERVICE,
                        "EXTERNAL SERVICE: webhook rejected after " + attempts(delivery) + ": " + result.message(),
                        delivery.endpoint(),
                        delivery.json());
            }
            case REFUSED -> {
                clear(delivery, timers);
                fail(
                        out,
                        OzError.INVALID_VALUE,
                        "INVALID VALUE: webhook endpoint refused: " + result.message(),
                        delivery.endpoint(),
                        delivery.json());
            }
            case RETRY -> {
                if (now >= delivery.deadline()) {
                    giveUp(delivery.withRetryAt(now, result.message()), timers, out);
                } else {
                    long delay = retryPolicy.delayMillis(
                            delivery.attempts(), ThreadLocalRandom.current().nextDouble(), result.retryAfterMillis());
                    long next = Math.min(delivery.deadline(), now + delay);
                    retries.inc();
                    arm(delivery.withRetryAt(next, result.message()), next, timers);
                }
            }
        }
    }

    private void giveUp(PendingDelivery delivery, TimerService timers, Collector<DeadLetter> out) throws Exception {
        clear(delivery, timers);
        fail(
                out,
                OzError.EXTERNAL_SERVICE,
                "EXTERNAL SERVICE: webhook not delivered within "
                        + format(retryPolicy.deadline()) + " (" + attempts(delivery) + ")"
                        + (delivery.lastError() == null ? "" : "; last: " + delivery.lastError()),
                delivery.endpoint(),
                delivery.json());
    }

    private static WebhookSender.Result resultOf(Future<WebhookSender.Result> attempt) throws InterruptedException {
        try {
            return attempt.get();
        } catch (ExecutionException | CancellationException e) {
            return new WebhookSender.Result(WebhookSender.Outcome.RETRY, 0, "attempt failed: " + e);
        }
    }

    /** Stores {@code delivery} with its one timer at {@code at}, replacing the previous timer. */
    private void arm(PendingDelivery delivery, long at, TimerService timers) throws Exception {
        if (delivery.timerAt() != 0) {
            timers.deleteProcessingTimeTimer(delivery.timerAt());
        }
        timers.registerProcessingTimeTimer(at);
        pending.update(delivery.withTimerAt(at));
    }

    private void clear(PendingDelivery delivery, TimerService timers) {
        if (delivery.timerAt() != 0) {
            timers.deleteProcessingTimeTimer(delivery.timerAt());
        }
        pending.clear();
        pendingCount = Math.max(0, pendingCount - 1);
    }

    private void fail(Collector<DeadLetter> out, int code, String message, String endpoint, String json) {
        failed.inc();
        out.collect(new DeadLetter(code, message, TargetPolicy.redact(endpoint), resultsTopic, -1, -1L, json, false));
    }

    private static String attempts(PendingDelivery delivery) {
        return delivery.attempts() + (delivery.attempts() == 1 ? " attempt" : " attempts");
    }

    private static String format(Duration d) {
        long ms = d.toMillis();
        if (ms % 3_600_000 == 0) {
            return ms / 3_600_000 + "h";
        }
        if (ms % 60_000 == 0) {
            return ms / 60_000 + "m";
        }
        return ms % 1000 == 0 ? ms / 1000 + "s" : ms + "ms";
    }

    /** Whether the attempt of {@code analyseId} has finished and waits to be picked up (tests). */
    boolean attemptFinished(String analyseId) {
        Future<WebhookSender.Result> attempt = inFlight.get(analyseId);
        return attempt != null && attempt.isDone();
    }

    @Override
    public void close() {
        if (executor != null) {
            executor.shutdownNow();
        }
        sender.close();
    }
}
