package dev.biometry.pipeline;

import dev.biometry.api.AnalysisStatus;
import dev.biometry.api.FolderRollUp;
import dev.biometry.api.Json;
import dev.biometry.api.MediaRef;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Keeps each folder's media and analyses' states (keyed by folder id) and emits the folder object that
 * {@link FolderRollUp} renders from them on every change. Also counts final analyses by resolution (metrics). The
 * record stays bounded ({@link FolderRollUp} lists at most {@code maxListed} media and analyses); a folder keeps at
 * most {@code maxListed} media (later ones are not added).
 */
public class FolderStatusFunction extends KeyedCoProcessFunction<String, MediaRef, ResultRecord, FolderRecord> {

    private static final long serialVersionUID = 1L;

    private final Duration folderTtl;
    private final boolean nonPersistent;
    private final int maxListed;

    private transient ValueState<Long> created;
    private transient MapState<String, String> mediaTypes;
    private transient MapState<String, AnalysisStatus> analyses;
    private transient Map<String, Counter> finalAnalyses;

    /** With {@code nonPersistent}, a folder is forgotten as soon as none of its analyses is running. */
    public FolderStatusFunction(Duration folderTtl, boolean nonPersistent) {
        this(folderTtl, nonPersistent, 1000);
    }

    /** As above, listing at most {@code maxListed} media and analyses per folder record. */
    public FolderStatusFunction(Duration folderTtl, boolean nonPersistent, int maxListed) {
        this.folderTtl = folderTtl;
        this.nonPersistent = nonPersistent;
        this.maxListed = maxListed;
    }

    /** Whether a folder is forgotten once none of its analyses runs (tests check the job's wiring). */
    boolean nonPersistent() {
        return nonPersistent;
    }

    @Override
    public void open(OpenContext openContext) {
        StateTtlConfig ttl = StateTtl.afterLastWrite(folderTtl);
        ValueStateDescriptor<Long> createdDescriptor = new ValueStateDescriptor<>("created", Types.LONG);
        createdDescriptor.enableTimeToLive(ttl);
        created = getRuntimeContext().getState(createdDescriptor);
        // Buffered serializers: the heap backend's checkpoints write them with far fewer calls (BufferedSerializer).
        RuntimeContext context = getRuntimeContext();
        MapStateDescriptor<String, String> mediaDescriptor = new MapStateDescriptor<>(
                "media", BufferedSerializer.of(context, Types.STRING), BufferedSerializer.of(context, Types.STRING));
        mediaDescriptor.enableTimeToLive(ttl);
        mediaTypes = getRuntimeContext().getMapState(mediaDescriptor);
        MapStateDescriptor<String, AnalysisStatus> analysesDescriptor = new MapStateDescriptor<>(
                "analyses",
                BufferedSerializer.of(context, Types.STRING),
                BufferedSerializer.of(context, TypeInformation.of(AnalysisStatus.class)));
        analysesDescriptor.enableTimeToLive(ttl);
        analyses = getRuntimeContext().getMapState(analysesDescriptor);
        MetricGroup metrics = getRuntimeContext().getMetricGroup();
        finalAnalyses = new java.util.HashMap<>();
        for (String resolution : new String[] {"SUCCESS", "DECLINED", "OPERATOR_REQUIRED", "FAILED"}) {
            finalAnalyses.put(resolution, metrics.counter("analyses" + camel(resolution)));
        }
    }

    @Override
    public void processElement1(MediaRef media, Context ctx, Collector<FolderRecord> out) throws Exception {
        long now = ctx.timerService().currentProcessingTime();
        touch(now);
        String known = mediaTypes.get(media.mediaId());
        if (media.mediaType().name().equals(known) || (known == null && atLeast(mediaTypes.keys(), maxListed))) {
            return;
        }
        mediaTypes.put(media.mediaId(), media.mediaType().name());
        out.collect(render(ctx.getCurrentKey(), now));
    }

    @Override
    public void processElement2(ResultRecord result, Context ctx, Collector<FolderRecord> out) throws Exception {
        long now = ctx.timerService().currentProcessingTime();
        touch(now);
        AnalysisStatus previous = analyses.get(result.analyseId());
        boolean previousFinal = previous != null && !"PROCESSING".equals(previous.state());
        if (previousFinal && !result.isFinal()) {
            // PROCESSING (from the folder join) and the final record (from the matcher) travel on different
            // channels; a PROCESSING record arriving late must not reopen a finished analysis.
            return;
        }
        if (result.isFinal() && !previousFinal) {
            Counter counter = finalAnalyses.get(result.resolutionStatus());
            if (counter != null) {
                counter.inc();
            }
        }
        analyses.put(result.analyseId(), new AnalysisStatus(result.state(), result.resolutionStatus(), now));
        FolderRecord folder = render(ctx.getCurrentKey(), now);
        out.collect(folder);
        if (nonPersistent && !"PROCESSING".equals(folder.resolutionStatus())) {
            created.clear();
            mediaTypes.clear();
            analyses.clear();
        }
    }

    /** Rewrites the creation time on every change so that its TTL runs from the folder's last activity. */
    private void touch(long now) throws Exception {
        Long first = created.value();
        created.update(first == null ? now : first);
    }

    private static String camel(String status) {
        StringBuilder sb = new StringBuilder();
        for (String part : status.toLowerCase(java.util.Locale.ROOT).split("_")) {
            sb.append(Character.toUpperCase(part.charAt(0))).append(part.substring(1));
        }
        return sb.toString();
    }

    private static boolean atLeast(Iterable<?> items, int count) {
        int n = 0;
        for (Object ignored : items) {
            if (++n >= count) {
                return true;
            }
        }
        return false;
    }

    private FolderRecord render(String folderId, long now) throws Exception {
        Map<String, AnalysisStatus> all = new TreeMap<>();
        for (Map.Entry<String, AnalysisStatus> e : analyses.entries()) {
            all.put(e.getKey(), e.getValue());
        }
        FolderRollUp.Folder folder =
                FolderRollUp.render(folderId, created.value(), now, toMap(mediaTypes), all, maxListed);
        return new FolderRecord(folderId, folder.resolutionStatus(), Json.write(folder.json()));
    }

    private static Map<String, String> toMap(MapState<String, String> state) throws Exception {
        Map<String, String> map = new TreeMap<>();
        for (Map.Entry<String, String> e : state.entries()) {
            map.put(e.getKey(), e.getValue());
        }
        return map;
    }
}
