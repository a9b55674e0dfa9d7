package dev.biometry.pipeline;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.biometry.api.Json;
import dev.biometry.api.MediaRef;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.api.common.functions.OpenContext;
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
 * Keeps each folder's roll-up (keyed by folder id) from its media and its analyses' results, and emits the folder
 * object on every change. Folder {@code resolution_status}: INITIAL without analyses, PROCESSING while any runs,
 * else FAILED if any failed, else FINISHED. Also counts final analyses by resolution (metrics).
 *
 * <p>The record stays bounded: it lists at most {@code maxListed} media (by id) and {@code maxListed} analyses
 * (running ones first, then the most recently updated), and gives the totals as {@code media_count} and
 * {@code analyses_count}; a folder keeps at most {@code maxListed} media (later ones are not added).
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
        MapStateDescriptor<String, String> mediaDescriptor = new MapStateDescriptor<>("media", Types.STRING, Types.STRING);
        mediaDescriptor.enableTimeToLive(ttl);
        mediaTypes = getRuntimeContext().getMapState(mediaDescriptor);
        MapStateDescriptor<String, AnalysisStatus> analysesDescriptor =
                new MapStateDescriptor<>("analyses", Types.STRING, TypeInformation.of(AnalysisStatus.class));
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
        String rollUp = rollUp(all.values());
        Map<String, AnalysisStatus> sorted = all;
        if (all.size() > maxListed) {
            // Running analyses first, then the most recently updated; listed in id order.
            List<Map.Entry<String, AnalysisStatus>> ranked = new ArrayList<>(all.entrySet());
            ranked.sort(Comparator.comparing((Map.Entry<String, AnalysisStatus> e) -> !"PROCESSING".equals(e.getValue().state()))
                    .thenComparing(e -> -e.getValue().updatedMillis()));
            sorted = new TreeMap<>();
            for (Map.Entry<String, AnalysisStatus> e : ranked.subList(0, maxListed)) {
                sorted.put(e.getKey(), e.getValue());
            }
        }
        ObjectNode folder = Json.mapper().createObjectNode();
        folder.put("folder_id", folderId);
        folder.put("resolution_status", rollUp);
        folder.put("time_created", seconds(created.value()));
        folder.put("time_updated", seconds(now));
        ArrayNode media = folder.putArray("media");
        Map<String, String> allMedia = toMap(mediaTypes);
        for (Map.Entry<String, String> e : allMedia.entrySet()) {
            if (media.size() == maxListed) {
                break;
            }
            media.addObject().put("media_id", e.getKey()).put("media_type", e.getValue());
        }
        folder.put("media_count", allMedia.size());
        folder.put("analyses_count", all.size());
        ArrayNode list = folder.putArray("analyses");
        for (Map.Entry<String, AnalysisStatus> e : sorted.entrySet()) {
            list.addObject().put("analyse_id", e.getKey()).put("type", "BIOMETRY")
                    .put("state", e.getValue().state()).put("resolution_status", e.getValue().resolutionStatus())
                    .put("resolution", e.getValue().resolutionStatus());
        }
        return new FolderRecord(folderId, rollUp, Json.write(folder));
    }

    static String rollUp(Iterable<AnalysisStatus> statuses) {
        boolean any = false;
        boolean failed = false;
        for (AnalysisStatus s : statuses) {
            any = true;
            if ("PROCESSING".equals(s.state())) {
                return "PROCESSING";
            }
            failed |= "FAILED".equals(s.state());
        }
        return !any ? "INITIAL" : failed ? "FAILED" : "FINISHED";
    }

    private static BigDecimal seconds(long millis) {
        return BigDecimal.valueOf(millis, 3);
    }

    private static Map<String, String> toMap(MapState<String, String> state) throws Exception {
        Map<String, String> map = new TreeMap<>();
        for (Map.Entry<String, String> e : state.entries()) {
            map.put(e.getKey(), e.getValue());
        }
        return map;
    }
}
