package dev.biometry.pipeline;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.biometry.api.DeadLetter;
import dev.biometry.api.Excerpt;
import dev.biometry.api.Json;
import dev.biometry.api.OzError;
import dev.biometry.api.SourceRef;
import java.time.Duration;
import java.util.List;
import org.apache.flink.api.common.accumulators.DoubleCounter;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Keeps {@code analyse_id} a unique key (keyed by analyse id). The first request of an id claims it: its
 * PROCESSING record goes to {@link #RESULTS} and one {@link EmbedTask} per media downstream. The claim holds until
 * the analysis' final record is certain: {@code --analysis-timeout} plus a margin after the start, when a timer
 * releases it and (with backstops on) emits a backstop FAILED record that {@link ResultOrderFunction} publishes only
 * if no final record came, so every started analysis ends with exactly one final record even if none of its media
 * reached the matcher. Another request with the same id while the claim holds (the same or another folder) is
 * refused with a dead letter (error 4, "already running") and the first goes on untouched. A request that could not
 * start (its FAILED record from the folder join) takes no claim.
 */
public class ClaimFunction extends KeyedProcessFunction<String, AnalysisStart, EmbedTask> {

    private static final long serialVersionUID = 1L;

    /** PROCESSING records of claimed analyses, FAILED records of analyses that could not start, backstops. */
    public static final OutputTag<ResultRecord> RESULTS =
            new OutputTag<>("claim-results", TypeInformation.of(ResultRecord.class));

    /** Requests refused because their analyse id is taken. */
    public static final OutputTag<DeadLetter> DEAD_LETTERS =
            new OutputTag<>("claim-dead-letters", TypeInformation.of(DeadLetter.class));

    private final Duration analysisTimeout;
    private final boolean backstops;
    private final String requestsTopic;

    private transient ValueState<AnalysisClaim> claim;
    private transient RecordAge inputAge;
    private transient Counter refused;
    private transient Counter backstopped;
    private transient DoubleCounter analysesAccounted;

    /**
     * @param backstops whether a released claim emits its backstop FAILED record: on in streaming, off in Flink's
     *     BATCH mode (there the stages run one after the other, and a backstop would overtake the real results)
     * @param requestsTopic names a refused request's source when it has none
     */
    public ClaimFunction(Duration analysisTimeout, boolean backstops, String requestsTopic) {
        this.analysisTimeout = analysisTimeout;
        this.backstops = backstops;
        this.requestsTopic = requestsTopic;
    }

    /** Margin after the analysis timeout before the claim is released: the matcher's own timeout goes first. */
    static Duration margin(Duration analysisTimeout) {
        Duration thirtySeconds = Duration.ofSeconds(30);
        return analysisTimeout.compareTo(thirtySeconds) < 0 ? analysisTimeout : thirtySeconds;
    }

    @Override
    public void open(OpenContext openContext) {
        // A buffered serializer: the heap backend's checkpoints write it with far fewer calls (BufferedSerializer).
        claim = getRuntimeContext()
                .getState(new ValueStateDescriptor<>(
                        "claim", BufferedSerializer.of(getRuntimeContext(), TypeInformation.of(AnalysisClaim.class))));
        refused = getRuntimeContext().getMetricGroup().counter("analysesRefused");
        backstopped = getRuntimeContext().getMetricGroup().counter("analysesBackstopped");
        inputAge = RecordAge.register(getRuntimeContext().getMetricGroup(), RecordAge.INPUT);
        analysesAccounted = getRuntimeContext().getDoubleCounter(PipelineMetrics.PROGRESS_ACCUMULATOR);
    }

    @Override
    public void processElement(AnalysisStart start, Context ctx, Collector<EmbedTask> out) throws Exception {
        inputAge.record(ctx.timestamp());
        AnalysisClaim held = claim.value();
        if (held != null) {
            refuse(start, held, ctx);
            return;
        }
        if (start.record().isFinal()) {
            // It could not start: it ends here and takes no claim.
            ctx.output(RESULTS, start.record().forRequest(start.ticket().token(), 0L, false));
            return;
        }
        long now = ctx.timerService().currentProcessingTime();
        long releaseAt =
                now + analysisTimeout.toMillis() + margin(analysisTimeout).toMillis();
        AnalysisTicket ticket = start.ticket().claimed(now, backstops ? releaseAt : 0L);
        claim.update(new AnalysisClaim(ticket, releaseAt));
        ctx.timerService().registerProcessingTimeTimer(releaseAt);
        ctx.output(RESULTS, start.record().forRequest(ticket.token(), 0L, false));
        for (int i = 0; i < start.media().length; i++) {
            out.collect(new EmbedTask(ticket, i, start.media()[i]));
        }
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<EmbedTask> out) throws Exception {
        AnalysisClaim held = claim.value();
        if (held == null || held.releaseAtMillis() > timestamp) {
            return;
        }
        claim.clear();
        if (backstops) {
            AnalysisTicket t = held.ticket();
            backstopped.inc();
            ctx.output(
                    RESULTS,
                    Results.failed(
                                    t.header(),
                                    List.of(),
                                    new OzError(
                                            OzError.UNKNOWN,
                                            "timed out: no result within " + analysisTimeout.toSeconds() + " s"),
                                    t.resolutionEndpoint(),
                                    timestamp)
                            .forRequest(t.token(), 0L, true));
        }
    }

    private void refuse(AnalysisStart start, AnalysisClaim held, Context ctx) {
        refused.inc();
        analysesAccounted.add(1.0);
        AnalysisTicket t = start.ticket();
        ObjectNode payload = Json.mapper().createObjectNode();
        payload.put("folder_id", t.folderId());
        payload.put("analyse_id", t.analyseId());
        SourceRef source = start.source();
        ctx.output(
                DEAD_LETTERS,
                new DeadLetter(
                        OzError.INVALID_VALUE,
                        "INVALID VALUE: analyse_id " + Excerpt.of(t.analyseId())
                                + " is already running (started for folder "
                                + Excerpt.of(held.ticket().folderId()) + "); an analyse_id stays taken until "
                                + "--analysis-timeout after its start",
                        "analyse_id",
                        source == null ? requestsTopic : source.topic(),
                        source == null ? -1 : source.partition(),
                        source == null ? -1L : source.offset(),
                        payload.toString(),
                        false));
    }
}
