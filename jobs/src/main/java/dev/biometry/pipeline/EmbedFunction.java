package dev.biometry.pipeline;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.biometry.api.MediaRef;
import dev.biometry.api.OzError;
import dev.biometry.config.JobConfig;
import dev.biometry.face.EmbeddingPrecision;
import dev.biometry.face.FaceEngine;
import dev.biometry.face.FaceEngineConfig;
import dev.biometry.face.FacePolicy;
import dev.biometry.face.MediaAnalyzer;
import dev.biometry.face.MediaFaceSearch;
import dev.biometry.match.FaceOutcome;
import dev.biometry.media.MediaException;
import dev.biometry.media.MediaFetcher;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.flink.api.common.accumulators.DoubleCounter;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the face engine on one media (keyed by media id): photos, ID documents, videos and shots sets, under the
 * face policy and quality gate. Each parallel instance opens its own {@link FaceEngine} (its own ONNX Runtime
 * sessions) in {@link #open} and closes it in {@link #close}. A media's result is kept in the task's memory (at most
 * {@code --embedding-cache-size} media, the least used leave first; not checkpointed) for a TTL counted from
 * when it was computed (reads do not extend it), so a later analysis of the same media skips
 * inference: the same URI and the same content, the SHA-256 of the bytes read from the file or downloaded for this
 * request. A file replaced under the same URI, or an HTTP resource whose content changed, is embedded again.
 */
public class EmbedFunction extends KeyedProcessFunction<String, FetchedTask, EmbeddedMedia> {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(EmbedFunction.class);

    private final String modelsDir;
    private final float detectionScore;
    private final int ortThreads;
    private final FacePolicy policy;
    private final MediaAnalyzer.Limits limits;
    private final MediaFetcher fileFetcher;
    private final Duration cacheTtl;
    private final int cacheEntries;
    private final EmbeddingPrecision precision;

    /** Opens the analyser instead of the face engine on {@code modelsDir} when not null (tests). */
    private EngineFactory engineFactory;

    private transient FaceEngine engine;
    private transient MediaFaceSearch analyzer;
    /** Media id to face outcome, of this subtask's media only (keyed by media id upstream); null: no cache. */
    private transient Cache<String, CachedFace> cache;

    private transient RecordAge inputAge;
    private transient RecordAge outputAge;
    private transient Counter mediaEmbedded;
    private transient Counter facesDetected;
    private transient Counter mediaWithoutFace;
    private transient Counter mediaFailed;
    private transient Counter cacheHits;
    private transient Histogram embeddingLatencyMs;
    /** CPU microseconds this task's thread spent in the face engine for the media counted in mediaEmbedded. */
    private transient Counter faceWorkCpuMicros;
    /** Null where the JVM cannot measure a thread's CPU time. */
    private transient ThreadMXBean threadCpu;

    private transient DoubleCounter progress;

    /** As below, with the default embedding model and cache size. */
    public EmbedFunction(
            String modelsDir,
            float detectionScore,
            int ortThreads,
            FacePolicy policy,
            MediaAnalyzer.Limits limits,
            MediaFetcher fileFetcher,
            Duration cacheTtl) {
        this(
                modelsDir,
                detectionScore,
                ortThreads,
                policy,
                limits,
                fileFetcher,
                cacheTtl,
                JobConfig.EMBEDDING_CACHE_SIZE.defaultValue(),
                EmbeddingPrecision.DEFAULT);
    }

    /**
     * Engine settings are kept as plain values: {@link FaceEngineConfig} holds a (non-serialisable) Path.
     *
     * @param cacheTtl how long a media's outcome is served from the cache after it was computed (zero: no cache)
     * @param cacheEntries the most media this subtask keeps in its cache (the least used leave first)
     */
    public EmbedFunction(
            String modelsDir,
            float detectionScore,
            int ortThreads,
            FacePolicy policy,
            MediaAnalyzer.Limits limits,
            MediaFetcher fileFetcher,
            Duration cacheTtl,
            int cacheEntries,
            EmbeddingPrecision precision) {
        this.cacheEntries = cacheEntries;
        this.precision = precision;
        this.modelsDir = modelsDir;
        this.detectionScore = detectionScore;
        this.ortThreads = ortThreads;
        this.policy = policy;
        this.limits = limits;
        this.fileFetcher = fileFetcher;
        this.cacheTtl = cacheTtl;
    }

    /** The embedding model this function runs (tests check the job's wiring). */
    EmbeddingPrecision precision() {
        return precision;
    }

    /** How long a media's embedding is cached; zero = no cache (tests check the job's wiring). */
    Duration cacheTtl() {
        return cacheTtl;
    }

    /** Runs the analyser {@code factory} opens instead of the face engine (null: the face engine). */
    EmbedFunction withEngine(EngineFactory factory) {
        this.engineFactory = factory;
        return this;
    }

    @Override
    public void open(OpenContext openContext) throws Exception {
        if (engineFactory != null) {
            analyzer = engineFactory.open(policy, limits);
        } else {
            engine = new FaceEngine(new FaceEngineConfig(
                    Path.of(modelsDir), detectionScore, FaceEngineConfig.DEFAULT_NMS_IOU, ortThreads, 1, precision));
            analyzer = new MediaAnalyzer(engine, policy, limits);
        }
        MetricGroup metrics = getRuntimeContext().getMetricGroup();
        if (!cacheTtl.isZero() && cacheEntries > 0) {
            // In this task's memory, not in Flink state: a cache needs no checkpoint (every checkpoint would copy it
            // whole with the heap state backend, which at 100 ms checkpoints cost more than the face work; see
            // docs/performance.md), and a restarted job refills it. Expiry by write time here only frees memory:
            // the TTL itself is checked against the task's processing time on each read.
            cache = Caffeine.newBuilder()
                    .maximumSize(cacheEntries)
                    .expireAfterWrite(cacheTtl)
                    .executor(Runnable::run) // evictions on the task's thread, not in the JVM's common pool
                    .build();
            metrics.gauge("embeddingCacheEntries", cache::estimatedSize);
        }
        mediaEmbedded = metrics.counter("mediaEmbedded");
        facesDetected = metrics.counter("facesDetected");
        mediaWithoutFace = metrics.counter("mediaWithoutFace");
        mediaFailed = metrics.counter("mediaFailed");
        cacheHits = metrics.counter("embeddingCacheHits");
        embeddingLatencyMs = metrics.histogram("embeddingLatencyMs", new DescriptiveStatisticsHistogram(1000));
        faceWorkCpuMicros = metrics.counter("faceWorkCpuMicros");
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        threadCpu = mx.isCurrentThreadCpuTimeSupported() && mx.isThreadCpuTimeEnabled() ? mx : null;
        inputAge = RecordAge.register(metrics, RecordAge.INPUT);
        outputAge = RecordAge.register(metrics, RecordAge.OUTPUT);
        progress = getRuntimeContext().getDoubleCounter(PipelineMetrics.PROGRESS_ACCUMULATOR);
    }

    @Override
    public void processElement(FetchedTask fetched, Context ctx, Collector<EmbeddedMedia> out) throws Exception {
        inputAge.record(ctx.timestamp());
        EmbeddedMedia embedded =
                embed(fetched, ctx.getCurrentKey(), ctx.timerService().currentProcessingTime());
        outputAge.record(ctx.timestamp());
        out.collect(embedded);
    }

    /** The media's face outcome: from the fetch's error, the cache, or the face engine. */
    private EmbeddedMedia embed(FetchedTask fetched, String mediaId, long nowMillis) throws Exception {
        EmbedTask task = fetched.task();
        progress.add(1.0 / task.ticket().mediaCount());
        if (fetched.failed()) {
            mediaFailed.inc();
            return new EmbeddedMedia(
                    task.ticket(), task.index(), task.media(), FaceOutcome.failed(fetched.error()), false, 0);
        }
        long t0 = System.nanoTime();
        byte[] bytes;
        try {
            // The content is read (or was downloaded) before the cache is consulted: the cache is keyed by content.
            bytes = fetched.bytes() != null
                    ? fetched.bytes()
                    : fileFetcher.fetch(task.media().uri());
        } catch (MediaException e) {
            mediaFailed.inc();
            return embedded(task, FaceOutcome.failed(MediaAnalyzer.error(e, mediaName(task))), false, millisSince(t0));
        }
        // The content hash only serves the cache: without one, no file is hashed.
        String sha256 = cache == null ? null : CachedFace.sha256(bytes);
        CachedFace cached = cache == null ? null : cache.getIfPresent(mediaId);
        if (cached != null && cached.isFor(task.media().uri(), sha256, nowMillis, cacheTtl.toMillis())) {
            cacheHits.inc();
            return embedded(task, cached.outcome(), true, 0);
        }
        FaceOutcome result;
        long cpu0 = threadCpuNanos();
        try {
            MediaRef media = task.media();
            result = analyzer.outcome(
                    bytes, media.mediaType(), media.hasTag(MediaRef.TAG_PHOTO_ID_FRONT), mediaName(task));
        } catch (Exception e) {
            // A fault of ours or of the runtime, not of the media: the analysis FAILS with UNKNOWN, never a verdict.
            LOG.error(
                    "face engine failed on media {} of analysis {}",
                    task.media().mediaId(),
                    task.ticket().analyseId(),
                    e);
            result = FaceOutcome.failed(new OzError(
                    OzError.UNKNOWN,
                    "internal error while analysing media " + task.media().mediaId() + ": "
                            + e.getClass().getSimpleName()));
        }
        long elapsed = millisSince(t0);
        if (result.fatal()) {
            mediaFailed.inc();
            return embedded(task, result, false, elapsed);
        }
        embeddingLatencyMs.update(elapsed);
        if (cpu0 >= 0) {
            faceWorkCpuMicros.inc((threadCpuNanos() - cpu0) / 1_000);
        }
        mediaEmbedded.inc();
        facesDetected.inc(result.facesDetected());
        if (result.embedding() == null) {
            mediaWithoutFace.inc();
        }
        if (cache != null) {
            cache.put(mediaId, new CachedFace(task.media().uri(), sha256, result, nowMillis));
        }
        return embedded(task, result, false, elapsed);
    }

    /** CPU time of the calling thread in nanoseconds, -1 where it cannot be measured. */
    private long threadCpuNanos() {
        return threadCpu == null ? -1 : threadCpu.getCurrentThreadCpuTime();
    }

    private static long millisSince(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }

    private static String mediaName(EmbedTask task) {
        return "media " + task.media().mediaId();
    }

    private static EmbeddedMedia embedded(EmbedTask task, FaceOutcome outcome, boolean fromCache, long millis) {
        return new EmbeddedMedia(task.ticket(), task.index(), task.media(), outcome, fromCache, millis);
    }

    @Override
    public void close() throws Exception {
        if (engine != null) {
            engine.close();
            engine = null;
        }
    }
}
