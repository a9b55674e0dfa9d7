package dev.biometry.pipeline;

import dev.biometry.api.AnalysisRequest;
import dev.biometry.api.MediaObject;
import dev.biometry.api.MediaRef;
import dev.biometry.api.OzError;
import dev.biometry.api.RequestEnvelope;
import dev.biometry.api.Timestamps;
import dev.biometry.match.BiometryAnalyzer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.accumulators.DoubleCounter;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Joins a folder's media with its analysis requests (keyed by folder id). Media are kept in {@link MapState};
 * a request whose {@code source_media} names media not yet known waits for them with a processing-time timer.
 * When an analysis can start it emits one {@link EmbedTask} per eligible media and a PROCESSING result; an
 * analysis that cannot run (threshold_min above its threshold, fewer than two eligible media, media still missing at
 * the deadline) is emitted FAILED on {@link #RESULTS}.
 */
public class FolderJoinFunction extends KeyedCoProcessFunction<String, MediaRef, RequestEnvelope, EmbedTask> {

    private static final long serialVersionUID = 1L;

    /** PROCESSING records of started analyses and FAILED records of analyses that could not start. */
    public static final OutputTag<ResultRecord> RESULTS = new OutputTag<>("join-results", TypeInformation.of(ResultRecord.class));

    /**
     * Accumulator of progress for batch runs: analyses that failed here count 1; {@link EmbedFunction} adds
     * 1/mediaCount per media embedded, so the sum reaches the number of analyses when all are done.
     */
    public static final String PROGRESS_ACCUMULATOR = "analysesEmbedded";

    private final Duration mediaWait;
    private final Duration folderTtl;
    private final double defaultThreshold;
    private final boolean nonPersistent;

    private transient MapState<String, FolderMedia> media;
    private transient MapState<String, PendingAnalysis> pending;
    private transient ValueState<Long> mediaSequence;
    private transient DoubleCounter analysesAccounted;

    /**
     * {@code defaultThreshold} applies to requests that give none, and is echoed in their {@code params}. With
     * {@code nonPersistent}, a folder's media are forgotten as soon as no analysis of the folder waits for them.
     */
    public FolderJoinFunction(Duration mediaWait, Duration folderTtl, double defaultThreshold, boolean nonPersistent) {
        this.mediaWait = mediaWait;
        this.folderTtl = folderTtl;
        this.defaultThreshold = defaultThreshold;
        this.nonPersistent = nonPersistent;
    }

    /** Whether the folder's media are forgotten once nothing waits for them (tests check the job's wiring). */
    boolean nonPersistent() {
        return nonPersistent;
    }

    @Override
    public void open(OpenContext openContext) {
        StateTtlConfig ttl = StateTtl.afterLastWrite(folderTtl);
        MapStateDescriptor<String, FolderMedia> mediaDescriptor =
                new MapStateDescriptor<>("media", Types.STRING, TypeInformation.of(FolderMedia.class));
        mediaDescriptor.enableTimeToLive(ttl);
        media = getRuntimeContext().getMapState(mediaDescriptor);
        ValueStateDescriptor<Long> sequenceDescriptor = new ValueStateDescriptor<>("media-sequence", Types.LONG);
        sequenceDescriptor.enableTimeToLive(ttl);
        mediaSequence = getRuntimeContext().getState(sequenceDescriptor);
        pending = getRuntimeContext().getMapState(
                new MapStateDescriptor<>("pending", Types.STRING, TypeInformation.of(PendingAnalysis.class)));
        analysesAccounted = getRuntimeContext().getDoubleCounter(PROGRESS_ACCUMULATOR);
    }

    @Override
    public void processElement1(MediaRef ref, Context ctx, Collector<EmbedTask> out) throws Exception {
        addMedia(ref);
        boolean someoneWaited = !pending.isEmpty();
        startReadyAnalyses(ctx, out);
        if (someoneWaited) {
            forgetMediaIfNothingWaits();
        }
    }

    @Override
    public void processElement2(RequestEnvelope envelope, Context ctx, Collector<EmbedTask> out) throws Exception {
        for (MediaRef ref : envelope.media()) {
            addMedia(ref);
        }
        startReadyAnalyses(ctx, out);
        long now = ctx.timerService().currentProcessingTime();
        for (AnalysisRequest request : envelope.analyses()) {
            OzError invalidParams = invalidParams(request);
            if (invalidParams != null) {
                analysesAccounted.add(1.0);
                ctx.output(RESULTS, Results.failed(header(request), mediaObjects(eligible(scope(request))), invalidParams,
                        request.resolutionEndpoint(), now));
            } else if (missingMedia(request).isEmpty()) {
                start(request, ctx, out);
            } else {
                long deadline = now + mediaWait.toMillis();
                pending.put(request.analyseId(), new PendingAnalysis(request, deadline));
                ctx.timerService().registerProcessingTimeTimer(deadline);
            }
        }
        forgetMediaIfNothingWaits();
    }

    /** Non-persistent mode: the folder's media go once every analysis that needed them has started or failed. */
    private void forgetMediaIfNothingWaits() throws Exception {
        if (nonPersistent && pending.isEmpty()) {
            media.clear();
            mediaSequence.clear();
        }
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<EmbedTask> out) throws Exception {
        List<PendingAnalysis> expired = new ArrayList<>();
        for (PendingAnalysis p : pending.values()) {
            if (p.deadlineMillis() <= timestamp) {
                expired.add(p);
            }
        }
        for (PendingAnalysis p : expired) {
            pending.remove(p.request().analyseId());
            AnalysisRequest r = p.request();
            List<String> missing = missingMedia(r);
            ctx.output(RESULTS, Results.failed(header(r), mediaObjects(scope(r)), new OzError(OzError.NOT_EXIST,
                            "media not found in folder " + r.folderId() + " after " + mediaWait.toSeconds() + " s: " + missing),
                    r.resolutionEndpoint(), timestamp));
            analysesAccounted.add(1.0);
        }
        forgetMediaIfNothingWaits();
    }

    private void addMedia(MediaRef ref) throws Exception {
        FolderMedia known = media.get(ref.mediaId());
        Long last = mediaSequence.value();
        long sequence = known != null ? known.sequence() : last == null ? 0 : last + 1;
        // Written on every media write, so the counter's TTL never runs out before a media entry's does.
        mediaSequence.update(last == null ? sequence : Math.max(last, sequence));
        media.put(ref.mediaId(), new FolderMedia(ref, sequence));
    }

    private void startReadyAnalyses(Context ctx, Collector<EmbedTask> out) throws Exception {
        List<PendingAnalysis> ready = new ArrayList<>();
        for (PendingAnalysis p : pending.values()) {
            if (missingMedia(p.request()).isEmpty()) {
                ready.add(p);
            }
        }
        for (PendingAnalysis p : ready) {
            pending.remove(p.request().analyseId());
            deleteTimerUnlessShared(p.deadlineMillis(), ctx);
            start(p.request(), ctx, out);
        }
    }

    /** Several pending analyses may share one deadline; its timer goes only when none of them waits any more. */
    private void deleteTimerUnlessShared(long deadline, Context ctx) throws Exception {
        for (PendingAnalysis other : pending.values()) {
            if (other.deadlineMillis() == deadline) {
                return;
            }
        }
        ctx.timerService().deleteProcessingTimeTimer(deadline);
    }

    private void start(AnalysisRequest request, Context ctx, Collector<EmbedTask> out) throws Exception {
        long now = ctx.timerService().currentProcessingTime();
        List<MediaRef> scope = scope(request);
        List<MediaRef> eligible = eligible(scope);
        BiometryAnalyzer.AnalysisHeader header = header(request);
        List<MediaObject> eligibleObjects = mediaObjects(eligible);
        if (eligible.size() < 2) {
            analysesAccounted.add(1.0);
            int ignored = scope.size() - eligible.size();
            ctx.output(RESULTS, Results.failed(header, eligibleObjects, new OzError(OzError.INVALID_VALUE,
                            "biometry needs at least two eligible media; folder " + request.folderId() + " has "
                                    + eligible.size() + (request.sourceMedia() == null ? "" : " of those named in source_media")
                                    + (ignored > 0 ? " (" + ignored + " tagged photo_id_back ignored)" : "")),
                    request.resolutionEndpoint(), now));
            return;
        }
        AnalysisTicket ticket = new AnalysisTicket(request.analyseId(), request.folderId(), threshold(request),
                request.thresholdMin(), request.metaDataJson(), request.resolutionEndpoint(), request.requestedAtMillis(),
                eligible.size());
        ctx.output(RESULTS, Results.record(
                BiometryAnalyzer.processing(header, eligibleObjects, Timestamps.epochSeconds(now)), request.resolutionEndpoint()));
        for (int i = 0; i < eligible.size(); i++) {
            out.collect(new EmbedTask(ticket, i, eligible.get(i)));
        }
    }

    /**
     * The media an analysis covers that the folder knows: those named in source_media (in that order), else every
     * media of the folder.
     */
    private List<MediaRef> scope(AnalysisRequest request) throws Exception {
        List<MediaRef> scope = new ArrayList<>();
        if (request.sourceMedia() != null) {
            for (String id : request.sourceMedia()) {
                FolderMedia fm = media.get(id);
                if (fm != null) {
                    scope.add(fm.media());
                }
            }
        } else {
            List<FolderMedia> all = new ArrayList<>();
            for (Map.Entry<String, FolderMedia> e : media.entries()) {
                all.add(e.getValue());
            }
            all.sort(Comparator.comparingLong(FolderMedia::sequence));
            all.forEach(fm -> scope.add(fm.media()));
        }
        return scope;
    }

    /**
     * Error 4 when {@code params.threshold_min} exceeds the threshold that applies (the request's, else the job's
     * default), which the parser can only check when the request gives its own threshold; null when valid.
     */
    private OzError invalidParams(AnalysisRequest request) {
        double threshold = threshold(request);
        if (request.thresholdMin() == null || request.thresholdMin() <= threshold) {
            return null;
        }
        return new OzError(OzError.INVALID_VALUE, "params.threshold_min (" + request.thresholdMin()
                + ") must not exceed the threshold (" + threshold
                + (request.threshold() == null ? ", the job's default" : "") + ")");
    }

    /** The media biometry compares: all but those tagged photo_id_back. */
    private static List<MediaRef> eligible(List<MediaRef> media) {
        return media.stream().filter(m -> !m.hasTag(MediaRef.TAG_PHOTO_ID_BACK)).toList();
    }

    private List<String> missingMedia(AnalysisRequest request) throws Exception {
        List<String> missing = new ArrayList<>();
        if (request.sourceMedia() != null) {
            for (String id : request.sourceMedia()) {
                if (!media.contains(id)) {
                    missing.add(id);
                }
            }
        }
        return missing;
    }

    private static List<MediaObject> mediaObjects(List<MediaRef> media) {
        return media.stream().map(MediaObject::of).toList();
    }

    private BiometryAnalyzer.AnalysisHeader header(AnalysisRequest r) {
        return Results.header(r.analyseId(), r.folderId(), threshold(r), r.thresholdMin(), r.metaDataJson(),
                r.requestedAtMillis());
    }

    private double threshold(AnalysisRequest r) {
        return r.threshold() != null ? r.threshold() : defaultThreshold;
    }
}
