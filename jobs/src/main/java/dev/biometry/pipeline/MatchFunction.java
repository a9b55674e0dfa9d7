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
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Gathers the embedded media of one analysis (keyed by analyse id) and, once all have arrived, compares every pair
 * and emits the final analysis object. State and timer are cleared when the analysis is emitted; an analysis whose
 * media do not all arrive within the timeout FAILS with error 0; its late media are dropped for one more timeout
 * (then the state is cleared too), so an analysis does not get a second final record.
 */
public class MatchFunction extends KeyedProcessFunction<String, EmbeddedMedia, ResultRecord> {

    private static final long serialVersionUID = 1L;

    private final Calibration calibration;
    private final Duration timeout;

    private transient MapState<Integer, EmbeddedMedia> received;
    private transient ValueState<Long> deadline;
    private transient ValueState<Boolean> timedOut;
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
        received = getRuntimeContext().getMapState(
                new MapStateDescriptor<>("received", Types.INT, TypeInformation.of(EmbeddedMedia.class)));
        deadline = getRuntimeContext().getState(new ValueStateDescriptor<>("deadline", Types.LONG));
        timedOut = getRuntimeContext().getState(new ValueStateDescriptor<>("timed-out", Types.BOOLEAN));
        analyzer = new BiometryAnalyzer(calibration);
    }

    @Override
    public void processElement(EmbeddedMedia media, Context ctx, Collector<ResultRecord> out) throws Exception {
        if (timedOut.value() != null) {
            return;
        }
        if (deadline.value() == null) {
            long at = ctx.timerService().currentProcessingTime() + timeout.toMillis();
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
        Analysis analysis = analyzer.finish(Results.header(ticket), outcomes,
                Timestamps.epochSeconds(ctx.timerService().currentProcessingTime()));
        out.collect(Results.record(analysis, ticket.resolutionEndpoint()));
        clear(ctx);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<ResultRecord> out) throws Exception {
        if (timedOut.value() != null) {
            // End of the quiet period after a timeout: forget the analysis.
            timedOut.clear();
            deadline.clear();
            return;
        }
        EmbeddedMedia any = received.values().iterator().next();
        AnalysisTicket ticket = any.ticket();
        List<EmbeddedMedia> all = inOrder(ticket.mediaCount());
        List<MediaObject> media = all.stream().map(m -> MediaObject.of(m.media())).toList();
        out.collect(Results.failed(Results.header(ticket), media, new OzError(OzError.UNKNOWN,
                        "timed out after " + timeout.toSeconds() + " s with " + all.size() + " of " + ticket.mediaCount()
                                + " media analysed"),
                ticket.resolutionEndpoint(), timestamp));
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
        ctx.timerService().deleteProcessingTimeTimer(deadline.value());
        received.clear();
        deadline.clear();
    }

    static MediaOutcome outcome(EmbeddedMedia m) {
        MediaObject media = MediaObject.of(m.media());
        OzError error = m.errorCode() == null ? null : new OzError(m.errorCode(), m.errorMessage());
        if (m.fatal()) {
            return MediaOutcome.failed(media, error, m.processingMillis());
        }
        return new MediaOutcome(media, m.facesDetected(), m.embedding(), m.face(), error, false, m.processingMillis());
    }
}
