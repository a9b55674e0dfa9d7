package dev.biometry.pipeline;

import dev.biometry.api.MediaType;
import dev.biometry.api.OzError;
import dev.biometry.face.FaceAnalysis;
import dev.biometry.face.FaceEngine;
import dev.biometry.face.FaceEngineConfig;
import dev.biometry.media.MediaException;
import dev.biometry.media.MediaFetcher;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the face engine on one media (keyed by media id). Each parallel instance opens its own {@link FaceEngine}
 * (its own ONNX Runtime sessions) in {@link #open} and closes it in {@link #close}. A media's result is kept in
 * keyed state with a TTL, so a later analysis of the same media (same URI) skips fetching and inference.
 */
public class EmbedFunction extends KeyedProcessFunction<String, EmbedTask, EmbeddedMedia> {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(EmbedFunction.class);

    private final String modelsDir;
    private final float detectionScore;
    private final int ortThreads;
    private final MediaFetcher fetcher;
    private final Duration cacheTtl;

    private transient FaceEngine engine;
    private transient ValueState<CachedFace> cache;
    private transient Counter mediaEmbedded;
    private transient Counter facesDetected;
    private transient Counter mediaWithoutFace;
    private transient Counter mediaFailed;
    private transient Counter cacheHits;
    private transient Histogram embeddingLatencyMs;

    /** Engine settings are kept as plain values: {@link FaceEngineConfig} holds a (non-serialisable) Path. */
    public EmbedFunction(String modelsDir, float detectionScore, int ortThreads, MediaFetcher fetcher, Duration cacheTtl) {
        this.modelsDir = modelsDir;
        this.detectionScore = detectionScore;
        this.ortThreads = ortThreads;
        this.fetcher = fetcher;
        this.cacheTtl = cacheTtl;
    }

    @Override
    public void open(OpenContext openContext) throws Exception {
        engine = new FaceEngine(new FaceEngineConfig(
                Path.of(modelsDir), detectionScore, FaceEngineConfig.DEFAULT_NMS_IOU, ortThreads, 1));
        if (!cacheTtl.isZero()) {
            ValueStateDescriptor<CachedFace> descriptor =
                    new ValueStateDescriptor<>("embedding", TypeInformation.of(CachedFace.class));
            descriptor.enableTimeToLive(StateTtlConfig.newBuilder(cacheTtl)
                    .setUpdateType(StateTtlConfig.UpdateType.OnReadAndWrite)
                    .setStateVisibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
                    .build());
            cache = getRuntimeContext().getState(descriptor);
        }
        MetricGroup metrics = getRuntimeContext().getMetricGroup();
        mediaEmbedded = metrics.counter("mediaEmbedded");
        facesDetected = metrics.counter("facesDetected");
        mediaWithoutFace = metrics.counter("mediaWithoutFace");
        mediaFailed = metrics.counter("mediaFailed");
        cacheHits = metrics.counter("embeddingCacheHits");
        embeddingLatencyMs = metrics.histogram("embeddingLatencyMs", new DescriptiveStatisticsHistogram(1000));
    }

    @Override
    public void processElement(EmbedTask task, Context ctx, Collector<EmbeddedMedia> out) throws Exception {
        CachedFace cached = cache == null ? null : cache.value();
        if (cached != null && cached.uri().equals(task.media().uri())) {
            cacheHits.inc();
            out.collect(embedded(task, cached, true));
            return;
        }
        long t0 = System.nanoTime();
        CachedFace result;
        try {
            result = analyze(task);
        } catch (MediaException e) {
            mediaFailed.inc();
            out.collect(new EmbeddedMedia(task.ticket(), task.index(), task.media(), 0, null, e.ozErrorCode(),
                    "media " + task.media().mediaId() + ": " + e.getMessage(), true, false));
            return;
        } catch (Exception e) {
            // A fault of ours or of the runtime, not of the media: the analysis FAILS with UNKNOWN, never a verdict.
            LOG.error("face engine failed on media {} of analysis {}", task.media().mediaId(), task.ticket().analyseId(), e);
            mediaFailed.inc();
            out.collect(new EmbeddedMedia(task.ticket(), task.index(), task.media(), 0, null, OzError.UNKNOWN,
                    "internal error while analysing media " + task.media().mediaId() + ": " + e.getClass().getSimpleName(),
                    true, false));
            return;
        }
        embeddingLatencyMs.update((System.nanoTime() - t0) / 1_000_000);
        mediaEmbedded.inc();
        facesDetected.inc(result.facesDetected());
        if (result.embedding() == null) {
            mediaWithoutFace.inc();
        }
        if (cache != null) {
            cache.update(result);
        }
        out.collect(embedded(task, result, false));
    }

    private CachedFace analyze(EmbedTask task) throws Exception {
        if (task.media().mediaType() != MediaType.IMAGE_FOLDER) {
            throw new MediaException(MediaException.Kind.UNSUPPORTED,
                    task.media().mediaType() + " media are not supported by this build yet (photos only)");
        }
        byte[] bytes = fetcher.fetch(task.media().uri());
        FaceAnalysis analysis = engine.analyze(bytes, "media " + task.media().mediaId());
        if (!analysis.hasFace()) {
            return new CachedFace(task.media().uri(), 0, null, OzError.INVALID_VALUE,
                    "no face found in media " + task.media().mediaId());
        }
        return new CachedFace(task.media().uri(), analysis.facesDetected(), analysis.embedding(), null, null);
    }

    private static EmbeddedMedia embedded(EmbedTask task, CachedFace face, boolean fromCache) {
        return new EmbeddedMedia(task.ticket(), task.index(), task.media(), face.facesDetected(), face.embedding(),
                face.errorCode(), face.errorMessage(), false, fromCache);
    }

    @Override
    public void close() throws Exception {
        if (engine != null) {
            engine.close();
            engine = null;
        }
    }
}
