package dev.biometry.pipeline;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.biometry.api.AnalysisIdentity;
import dev.biometry.api.AnalysisParams;
import dev.biometry.api.AnalysisRequest;
import dev.biometry.api.DeadLetter;
import dev.biometry.api.Excerpt;
import dev.biometry.api.InputLimits;
import dev.biometry.api.Json;
import dev.biometry.api.MediaObject;
import dev.biometry.api.MediaRef;
import dev.biometry.api.OzError;
import dev.biometry.api.RequestEnvelope;
import dev.biometry.api.Timestamps;
import dev.biometry.match.BiometryAnalyzer;
import dev.biometry.match.MediaScope;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.accumulators.DoubleCounter;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Joins a folder's media with its analysis requests (keyed by folder id). Media are kept in {@link MapState}, at
 * most {@code maxMediaPerFolder} per folder (a media beyond that goes to {@link #DEAD_LETTERS}, error 4; a request
 * whose inline media would pass it fails its analyses with error 4); a request whose {@code source_media} names
 * media not yet known waits for them with a processing-time timer (pending analyses are keyed by analyse id and
 * request token, so two requests with one analyse id never overwrite each other). For each analysis it emits one
 * {@link AnalysisStart}: PROCESSING with the eligible media when it can start, FAILED when it cannot
 * (threshold_min above its threshold, {@link AnalysisParams#thresholdMinError}; too few or too many eligible media,
 * {@link MediaScope#check}; media still missing at the deadline). Which media an analysis covers is the core's rule
 * ({@link MediaScope}); this operator keeps the folder's media, the pending analyses and their timers.
 * {@link ClaimFunction} then checks the analyse id and starts it.
 */
public class FolderJoinFunction extends KeyedCoProcessFunction<String, MediaRef, RequestEnvelope, AnalysisStart> {

    private static final long serialVersionUID = 1L;

    /** Media refused because their folder is full. */
    public static final OutputTag<DeadLetter> DEAD_LETTERS =
            new OutputTag<>("join-dead-letters", TypeInformation.of(DeadLetter.class));

    /** How many missing media ids an error message names at most. */
    private static final int MAX_IDS_NAMED = 10;

    private final Duration mediaWait;
    private final Duration folderTtl;
    private final double defaultThreshold;
    private final boolean nonPersistent;
    private final InputLimits limits;
    private final String mediaTopic;

    private transient MapState<String, FolderMedia> media;
    private transient MapState<String, PendingAnalysis> pending;
    private transient ValueState<Long> mediaSequence;
    private transient RecordAge inputAge;
    private transient DoubleCounter analysesAccounted;
    private transient MediaScope.Folder folder;

    /**
     * {@code defaultThreshold} applies to requests that give none, and is echoed in their {@code params}. With
     * {@code nonPersistent}, a folder's media are forgotten as soon as no analysis of the folder waits for them.
     */
    public FolderJoinFunction(Duration mediaWait, Duration folderTtl, double defaultThreshold, boolean nonPersistent) {
        this(mediaWait, folderTtl, defaultThreshold, nonPersistent, InputLimits.DEFAULTS, "biometry.media");
    }

    /**
     * As above, with the folder-wide caps of {@code limits}; {@code mediaTopic} names the source of a refused
     * media's dead letter.
     */
    public FolderJoinFunction(
            Duration mediaWait,
            Duration folderTtl,
            double defaultThreshold,
            boolean nonPersistent,
            InputLimits limits,
            String mediaTopic) {
        this.mediaWait = mediaWait;
        this.folderTtl = folderTtl;
        this.defaultThreshold = defaultThreshold;
        this.nonPersistent = nonPersistent;
        this.limits = limits;
        this.mediaTopic = mediaTopic;
    }

    /** Whether the folder's media are forgotten once nothing waits for them (tests check the job's wiring). */
    boolean nonPersistent() {
        return nonPersistent;
    }

    @Override
    public void open(OpenContext openContext) {
        StateTtlConfig ttl = StateTtl.afterLastWrite(folderTtl);
        // Buffered serializers: the heap backend's checkpoints write them with far fewer calls (BufferedSerializer).
        RuntimeContext context = getRuntimeContext();
        MapStateDescriptor<String, FolderMedia> mediaDescriptor = new MapStateDescriptor<>(
                "media",
                BufferedSerializer.of(context, Types.STRING),
                BufferedSerializer.of(context, TypeInformation.of(FolderMedia.class)));
        mediaDescriptor.enableTimeToLive(ttl);
        media = getRuntimeContext().getMapState(mediaDescriptor);
        ValueStateDescriptor<Long> sequenceDescriptor = new ValueStateDescriptor<>("media-sequence", Types.LONG);
        sequenceDescriptor.enableTimeToLive(ttl);
        mediaSequence = getRuntimeContext().getState(sequenceDescriptor);
        pending = getRuntimeContext()
                .getMapState(new MapStateDescriptor<>(
                        "pending",
                        BufferedSerializer.of(context, Types.STRING),
                        BufferedSerializer.of(context, TypeInformation.of(PendingAnalysis.class))));
        analysesAccounted = getRuntimeContext().getDoubleCounter(PipelineMetrics.PROGRESS_ACCUMULATOR);
        folder = new StateFolder();
        inputAge = RecordAge.register(getRuntimeContext().getMetricGroup(), RecordAge.INPUT);
    }

    @Override
    public void processElement1(MediaRef ref, Context ctx, Collector<AnalysisStart> out) throws Exception {
        inputAge.record(ctx.timestamp());
        if (!media.contains(ref.mediaId()) && mediaCountReaches(limits.maxMediaPerFolder())) {
            ctx.output(DEAD_LETTERS, folderFull(ref));
            return;
        }
        addMedia(ref);
        boolean someoneWaited = !pending.isEmpty();
        startReadyAnalyses(ctx, out);
        if (someoneWaited) {
            forgetMediaIfNothingWaits();
        }
    }

    @Override
    public void processElement2(RequestEnvelope envelope, Context ctx, Collector<AnalysisStart> out) throws Exception {
        inputAge.record(ctx.timestamp());
        long now = ctx.timerService().currentProcessingTime();
        int newMedia = 0;
        for (MediaRef ref : envelope.media()) {
            newMedia += media.contains(ref.mediaId()) ? 0 : 1;
        }
        if (newMedia > 0 && mediaCountReaches(limits.maxMediaPerFolder() - newMedia + 1)) {
            // None of its media join the folder and none of its analyses run: it asked for more than the folder holds.
            OzError full = new OzError(
                    OzError.INVALID_VALUE,
                    "folder " + Excerpt.of(envelope.folderId())
                            + " would hold more than " + limits.maxMediaPerFolder() + " media with the " + newMedia
                            + " new media of this request");
            for (AnalysisRequest request : envelope.analyses()) {
                fail(request, List.of(), full, now, out);
            }
            return;
        }
        for (MediaRef ref : envelope.media()) {
            addMedia(ref);
        }
        startReadyAnalyses(ctx, out);
        for (AnalysisRequest request : envelope.analyses()) {
            OzError invalidParams = invalidParams(request);
            if (invalidParams != null) {
                fail(
                        request,
                        mediaObjects(bounded(MediaScope.eligible(MediaScope.of(request, folder)))),
                        invalidParams,
                        now,
                        out);
            } else if (MediaScope.missing(request, folder).isEmpty()) {
                start(request, ctx, out);
            } else {
                long deadline = now + mediaWait.toMillis();
                pending.put(pendingKey(request), new PendingAnalysis(request, deadline));
                ctx.timerService().registerProcessingTimeTimer(deadline);
            }
        }
        forgetMediaIfNothingWaits();
    }

    /** Pending analyses are told apart by request too: one analyse id may come twice (the claim refuses the second). */
    static String pendingKey(AnalysisRequest request) {
        return request.analyseId() + "\n" + request.token();
    }

    /** Whether the folder holds at least {@code count} media (stops counting there). */
    private boolean mediaCountReaches(int count) throws Exception {
        if (count <= 0) {
            return true;
        }
        int n = 0;
        for (String ignored : media.keys()) {
            if (++n >= count) {
                return true;
            }
        }
        return false;
    }

    private DeadLetter folderFull(MediaRef ref) {
        ObjectNode payload = Json.mapper().createObjectNode();
        payload.put("folder_id", ref.folderId());
        payload.put("media_id", ref.mediaId());
        payload.put("media_type", ref.mediaType().name());
        return new DeadLetter(
                OzError.INVALID_VALUE,
                "INVALID VALUE: folder " + Excerpt.of(ref.folderId()) + " already holds " + limits.maxMediaPerFolder()
                        + " media, the most allowed (--max-media-per-folder)",
                "media_id",
                mediaTopic,
                -1,
                -1L,
                payload.toString(),
                false);
    }

    /** At most the first {@code maxMediaPerAnalysis} media, for the source_media of a record that lists them. */
    private List<MediaRef> bounded(List<MediaRef> media) {
        return MediaScope.bounded(media, limits.maxMediaPerAnalysis());
    }

    private void fail(
            AnalysisRequest request, List<MediaObject> media, OzError error, long now, Collector<AnalysisStart> out) {
        analysesAccounted.add(1.0);
        AnalysisIdentity identity = request.identity(defaultThreshold);
        out.collect(new AnalysisStart(
                new AnalysisTicket(identity, 0, request.token(), 0L, 0L),
                new MediaRef[0],
                Results.failed(identity.header(), media, error, request.resolutionEndpoint(), now),
                request.source()));
    }

    /** Non-persistent mode: the folder's media go once every analysis that needed them has started or failed. */
    private void forgetMediaIfNothingWaits() throws Exception {
        if (nonPersistent && pending.isEmpty()) {
            media.clear();
            mediaSequence.clear();
        }
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<AnalysisStart> out) throws Exception {
        Map<String, PendingAnalysis> expired = new LinkedHashMap<>();
        for (Map.Entry<String, PendingAnalysis> e : pending.entries()) {
            if (e.getValue().deadlineMillis() <= timestamp) {
                expired.put(e.getKey(), e.getValue());
            }
        }
        // Removed by the key they were stored under (a savepoint of an older version keyed them by analyse id alone).
        for (Map.Entry<String, PendingAnalysis> e : expired.entrySet()) {
            PendingAnalysis p = e.getValue();
            pending.remove(e.getKey());
            AnalysisRequest r = p.request();
            List<String> missing = MediaScope.missing(r, folder);
            fail(
                    r,
                    mediaObjects(MediaScope.of(r, folder)),
                    new OzError(
                            OzError.NOT_EXIST,
                            "media not found in folder "
                                    + Excerpt.of(r.folderId()) + " after " + mediaWait.toSeconds() + " s: "
                                    + Excerpt.list(missing, MAX_IDS_NAMED)),
                    timestamp,
                    out);
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

    private void startReadyAnalyses(Context ctx, Collector<AnalysisStart> out) throws Exception {
        Map<String, PendingAnalysis> ready = new LinkedHashMap<>();
        for (Map.Entry<String, PendingAnalysis> e : pending.entries()) {
            if (MediaScope.missing(e.getValue().request(), folder).isEmpty()) {
                ready.put(e.getKey(), e.getValue());
            }
        }
        for (Map.Entry<String, PendingAnalysis> e : ready.entrySet()) {
            PendingAnalysis p = e.getValue();
            pending.remove(e.getKey());
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

    private void start(AnalysisRequest request, Context ctx, Collector<AnalysisStart> out) throws Exception {
        long now = ctx.timerService().currentProcessingTime();
        List<MediaRef> scope = MediaScope.of(request, folder);
        List<MediaRef> eligible = MediaScope.eligible(scope);
        OzError cannotStart = MediaScope.check(request, scope, eligible, limits.maxMediaPerAnalysis());
        if (cannotStart != null) {
            fail(request, mediaObjects(bounded(eligible)), cannotStart, now, out);
            return;
        }
        AnalysisIdentity identity = request.identity(defaultThreshold);
        out.collect(new AnalysisStart(
                new AnalysisTicket(identity, eligible.size(), request.token(), 0L, 0L),
                eligible.toArray(MediaRef[]::new),
                Results.record(
                        BiometryAnalyzer.processing(
                                identity.header(), mediaObjects(eligible), Timestamps.epochSeconds(now)),
                        request.resolutionEndpoint()),
                request.source()));
    }

    /** The folder's media in keyed state, as the core's scope rules read them. */
    private final class StateFolder implements MediaScope.Folder {
        @Override
        public MediaRef get(String mediaId) throws Exception {
            FolderMedia fm = media.get(mediaId);
            return fm == null ? null : fm.media();
        }

        @Override
        public List<MediaRef> inArrivalOrder() throws Exception {
            List<FolderMedia> all = new ArrayList<>();
            for (Map.Entry<String, FolderMedia> e : media.entries()) {
                all.add(e.getValue());
            }
            all.sort(Comparator.comparingLong(FolderMedia::sequence));
            return all.stream().map(FolderMedia::media).toList();
        }
    }

    /**
     * Error 4 when {@code params.threshold_min} exceeds the threshold that applies (the request's, else the job's
     * default), which the parser can only check when the request gives its own threshold; null when valid.
     */
    private OzError invalidParams(AnalysisRequest request) {
        return AnalysisParams.thresholdMinError(
                request.thresholdMin(), request.identity(defaultThreshold).threshold(), request.threshold() == null);
    }

    private static List<MediaObject> mediaObjects(List<MediaRef> media) {
        return media.stream().map(MediaObject::of).toList();
    }
}
