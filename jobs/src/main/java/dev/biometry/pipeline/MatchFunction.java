package dev.biometry.pipeline;

import dev.biometry.api.Analysis;
import dev.biometry.api.MediaObject;
import dev.biometry.api.OzError;
import dev.biometry.api.Timestamps;
import dev.biometry.match.BiometryAnalyzer;
import dev.biometry.match.Calibration;
import dev.biometry.match.MediaOutcome;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Gathers the embedded media of one analysis (keyed by analyse id) and, once all have arrived, compares every pair
 * and emits the final analysis object. State and timer are cleared when the analysis is emitted; an analysis whose
 * media do not all arrive within the timeout FAILS with error 0; its late media are dropped for one more timeout
 * (then the state is cleared too), so an analysis does not get a second final record.
 *
 * <p>Media carry their request's token ({@link AnalysisTicket#token()}): the first media of an analysis fixes it,
 * and a media of another request with the same analyse id is dropped, unless that request was claimed later (then
 * the earlier one is over: {@link ClaimFunction} only lets a second request of an id start once the first one's
 * claim ran out) and it replaces the earlier one's leftovers. Media of two requests are never mixed.
 */
public class MatchFunction extends KeyedProcessFunction<String, EmbeddedMedia, ResultRecord> {

    private static final long serialVersionUID = 1L;

    /** Longest media error message kept in a result (they may quote a URI). */
    static final int MAX_ERROR_CHARS = 512;

    private final Calibration calibration;
    private final Duration timeout;

    private transient MapState<Integer, EmbeddedMedia> received;
    private transient ValueState<Long> deadline;
    private transient ValueState<Boolean> timedOut;
    private transient ValueState<AnalysisTicket> current;
    private transient RecordAge inputAge;
    private transient Counter otherRequestDropped;
    private transient BiometryAnalyzer analyzer;

    public MatchFunction(Calibration calibration, Duration timeout) {
        this.calibration = calibration;
        this.timeout = timeout;
    }

    /** The cosine-to-confidence map in use (tests check the job's wiring). */
    Calibration calibration() {
        return calibration;
    }

    @Override
    public void open(OpenContext openContext) {
        received = getRuntimeContext()
                .getMapState(new MapStateDescriptor<>("received", Types.INT, TypeInformation.of(EmbeddedMedia.class)));
        deadline = getRuntimeContext().getState(new ValueStateDescriptor<>("deadline", Types.LONG));
        timedOut = getRuntimeContext().getState(new ValueStateDescriptor<>("timed-out", Types.BOOLEAN));
        current = getRuntimeContext()
                .getState(new ValueStateDescriptor<>("ticket", TypeInformation.of(AnalysisTicket.class)));
        otherRequestDropped = getRuntimeContext().getMetricGroup().counter("mediaOfOtherRequestDropped");
        inputAge = RecordAge.register(getRuntimeContext().getMetricGroup(), RecordAge.INPUT);
        analyzer = new BiometryAnalyzer(calibration);
    }

    @Override
    public void processElement(EmbeddedMedia media, Context ctx, Collector<ResultRecord> out) throws Exception {
        inputAge.record(ctx.timestamp());
        AnalysisTicket started = current.value();
        if (started != null && !started.token().equals(media.ticket().token())) {
            if (media.ticket().claimedAtMillis() <= started.claimedAtMillis()) {
                otherRequestDropped.inc();
                return;
            }
            // A newer request of this analyse id: whatever the earlier one left here is over.
            otherRequestDropped.inc();
            clear(ctx);
            timedOut.clear();
            started = null;
        }
        if (started == null) {
            current.update(media.ticket());
        }
        if (timedOut.value() != null) {
            return;
        }
        if (deadline.value() == null) {
            // With a backstop (streaming) the timeout counts from the claim, so that this record ("k of n media")
            // comes before the claim's backstop; otherwise from the first media here.
            AnalysisTicket t = media.ticket();
            long at = (t.backstopAtMillis() > 0
                            ? t.claimedAtMillis()
                            : ctx.timerService().currentProcessingTime())
                    + timeout.toMillis();
            deadline.update(at);
            ctx.timerService().registerProcessingTimeTimer(at);
        }
        received.put(media.index(), media);
        List<EmbeddedMedia> all = inOrder(media.ticket().mediaCount());
        if (all.size() < media.ticket().mediaCount()) {
            return;
        }
        AnalysisTicket ticket = media.ticket();
        List<MediaOutcome> outcomes = all.stream().map(MatchFunction::outcome).toList();
        Analysis analysis = analyzer.finish(
                ticket.header(),
                outcomes,
                Timestamps.epochSeconds(ctx.timerService().currentProcessingTime()));
        out.collect(Results.record(analysis, ticket.resolutionEndpoint())
                .forRequest(ticket.token(), ticket.backstopAtMillis(), false));
        clear(ctx);
        current.clear();
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<ResultRecord> out) throws Exception {
        if (timedOut.value() != null) {
            // End of the quiet period after a timeout: forget the analysis.
            timedOut.clear();
            deadline.clear();
            current.clear();
            return;
        }
        if (received.isEmpty()) {
            return;
        }
        EmbeddedMedia any = received.values().iterator().next();
        AnalysisTicket ticket = any.ticket();
        List<EmbeddedMedia> all = inOrder(ticket.mediaCount());
        List<MediaObject> media =
                all.stream().map(m -> MediaObject.of(m.media())).toList();
        out.collect(Results.failed(
                        ticket.header(),
                        media,
                        new OzError(
                                OzError.UNKNOWN,
                                "timed out after " + timeout.toSeconds() + " s with " + all.size() + " of "
                                        + ticket.mediaCount() + " media analysed"),
                        ticket.resolutionEndpoint(),
                        timestamp)
                .forRequest(ticket.token(), ticket.backstopAtMillis(), false));
        received.clear();
        // Media of this analysis that still arrive during one more timeout are dropped, not started again.
        timedOut.update(true);
        long quietUntil = timestamp + timeout.toMillis();
        deadline.update(quietUntil);
        ctx.timerService().registerProcessingTimeTimer(quietUntil);
    }

    private List<EmbeddedMedia> inOrder(int count) throws Exception {
        List<EmbeddedMedia> all = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            EmbeddedMedia m = received.get(i);
            if (m != null) {
                all.add(m);
            }
        }
        return all;
    }

    private void clear(Context ctx) throws Exception {
        if (deadline.value() != null) {
            ctx.timerService().deleteProcessingTimeTimer(deadline.value());
        }
        received.clear();
        deadline.clear();
    }

    static MediaOutcome outcome(EmbeddedMedia m) {
        // Error messages may quote a media's URI or name: bounded like every echo of client input.
        return new MediaOutcome(
                MediaObject.of(m.media()), m.outcome().withErrorBounded(MAX_ERROR_CHARS), m.processingMillis());
    }
}
