package dev.biometry.pipeline;

import dev.biometry.api.DeadLetter;
import dev.biometry.api.InputLimits;
import dev.biometry.api.MediaRef;
import dev.biometry.api.RequestEnvelope;
import dev.biometry.config.JobConfig;
import dev.biometry.face.FacePolicy;
import dev.biometry.face.MediaAnalyzer;
import dev.biometry.media.HttpMediaFetcher;
import dev.biometry.media.MediaFetcher;
import dev.biometry.media.VideoLimits;
import dev.biometry.media.ZipLimits;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.StateChangelogOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.core.execution.RecoveryClaimMode;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.Collector;

/**
 * The biometry topology: media and requests are parsed, joined per folder, each media's face is embedded by a
 * per-slot face engine, each analysis' media are matched pairwise, and results, folder roll-ups and dead letters
 * are written to the sinks. Sources and sinks are passed in, so tests and runners choose them.
 */
public final class BiometryJob {

    /**
     * Where the job reads and writes.
     *
     * @param media the media topic; null when requests carry their media inline (batch files)
     * @param folders the folder roll-up sink; null to leave the roll-up out (batch runs)
     * @param finalResultsOnly write only FINISHED/FAILED records to {@code results} (batch files), not PROCESSING ones
     */
    public record Endpoints(
            Source<RawRecord, ?, ?> media,
            Source<RawRecord, ?, ?> requests,
            Sink<ResultRecord> results,
            Sink<FolderRecord> folders,
            Sink<DeadLetter> deadLetters,
            boolean finalResultsOnly) {}

    private BiometryJob() {}

    /** Where the job runs, which decides the defaults of its state backend and checkpoint storage. */
    public enum Deployment {
        /**
         * {@code flink run} on a cluster: RocksDB with incremental checkpoints, checkpoints in the directory of
         * {@code --checkpoint-dir} or of the cluster's {@code execution.checkpointing.dir} (none: refused).
         */
        CLUSTER,
        /** One process ({@code local}, {@code bench}, tests): HashMap state, checkpoints in a temporary directory. */
        LOCAL
    }

    /** The restart strategy set unless the environment's configuration names one. */
    static final String RESTART_STRATEGY = "exponential-delay";

    static final Duration RESTART_INITIAL_BACKOFF = Duration.ofSeconds(1);
    static final Duration RESTART_MAX_BACKOFF = Duration.ofMinutes(1);
    static final double RESTART_BACKOFF_MULTIPLIER = 2.0;
    static final double RESTART_JITTER = 0.1;
    /** The backoff and the attempt count start again after this long without a failure. */
    static final Duration RESTART_RESET_AFTER = Duration.ofMinutes(10);
    /** Restarts in a row (none of them followed by a healthy period) before the job fails for good. */
    static final int RESTART_ATTEMPTS = 20;
    /** The checkpoint timeout and tolerated failed checkpoints set unless the environment's configuration names them. */
    static final Duration CHECKPOINT_TIMEOUT = Duration.ofMinutes(2);

    static final int TOLERABLE_CHECKPOINT_FAILURES = 2;

    /**
     * flink-dstl-dfs's {@code FsStateChangelogOptions.BASE_PATH}, where the changelog backend writes its log, by key:
     * that module is a TaskManager's, so the job's client need not have it (the tests check the key against it).
     */
    private static final org.apache.flink.configuration.ConfigOption<String> CHANGELOG_BASE_PATH =
            org.apache.flink.configuration.ConfigOptions.key("state.changelog.dstl.dfs.base-path")
                    .stringType()
                    .noDefaultValue();

    /**
     * The durability a run got.
     *
     * @param stateBackend {@code hashmap} or {@code rocksdb}; null in BATCH mode (no checkpoints)
     * @param checkpointDir the checkpoint storage URI; null in BATCH mode
     * @param temporaryDir a directory this call created for the checkpoints (deleted when the JVM exits; callers
     *     may delete it sooner), or null
     */
    public record Durability(String stateBackend, String checkpointDir, java.nio.file.Path temporaryDir) {}

    /** {@link #configure(StreamExecutionEnvironment, JobConfig, Deployment)} for one process (LOCAL). */
    public static Durability configure(StreamExecutionEnvironment env, JobConfig config) {
        return configure(env, config, Deployment.LOCAL);
    }

    /**
     * Applies the job-wide settings to {@code env}: parallelism, exactly-once checkpointing at
     * {@code --checkpoint-interval}, the network buffer timeout ({@code --buffer-timeout}), the state backend (with
     * {@code --changelog-materialization}, Flink's changelog backend over it, its log's storage for a local cluster
     * and CLAIM-mode restores) and durable checkpoint storage, the checkpoint timeout and
     * tolerated failed checkpoints, and a bounded exponential-delay restart strategy. Each of these except
     * parallelism and the interval is taken, in this order, from its job option when given, from the environment's
     * own configuration when that names it (under {@code flink run} the cluster's {@code config.yaml}), else from
     * the {@code deployment}'s default. In BATCH runtime mode only parallelism and the restart strategy apply.
     *
     * @throws IllegalArgumentException when a cluster run has no checkpoint directory, or the transaction timeout
     *     is too short for the effective checkpoint settings, or a cluster run with the changelog has no durable
     *     storage for its log in the cluster's configuration
     */
    public static Durability configure(StreamExecutionEnvironment env, JobConfig config, Deployment deployment) {
        env.setParallelism(config.parallelism());
        org.apache.flink.configuration.ReadableConfig existing = env.getConfiguration();
        Configuration settings = new Configuration();
        if (!existing.getOptional(RestartStrategyOptions.RESTART_STRATEGY).isPresent()) {
            settings.set(RestartStrategyOptions.RESTART_STRATEGY, RESTART_STRATEGY);
            settings.set(
                    RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_INITIAL_BACKOFF, RESTART_INITIAL_BACKOFF);
            settings.set(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_MAX_BACKOFF, RESTART_MAX_BACKOFF);
            settings.set(
                    RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_BACKOFF_MULTIPLIER,
                    RESTART_BACKOFF_MULTIPLIER);
            settings.set(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_JITTER_FACTOR, RESTART_JITTER);
            settings.set(
                    RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_RESET_BACKOFF_THRESHOLD,
                    RESTART_RESET_AFTER);
            settings.set(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_ATTEMPTS, RESTART_ATTEMPTS);
        }
        if (existing.get(ExecutionOptions.RUNTIME_MODE) == RuntimeExecutionMode.BATCH) {
            env.configure(settings); // BATCH runs have no checkpoints: a failed task is re-run from its inputs
            return new Durability(null, null, null);
        }
        env.enableCheckpointing(config.checkpointInterval().toMillis(), CheckpointingMode.EXACTLY_ONCE);
        // Each of the five keyed hops would otherwise hold a record up to Flink's 100 ms for a buffer to fill: at
        // a few analyses per second buffers never fill (docs/performance.md measures it).
        env.setBufferTimeout(config.bufferTimeout().toMillis());

        String backend;
        if (!config.stateBackend().isEmpty()) {
            backend = config.stateBackend();
            settings.set(StateBackendOptions.STATE_BACKEND, backend);
        } else if (existing.getOptional(StateBackendOptions.STATE_BACKEND).isPresent()) {
            backend = existing.get(
                    StateBackendOptions.STATE_BACKEND); // kept as the cluster gives it (maybe a class name)
        } else {
            backend = deployment == Deployment.CLUSTER ? "rocksdb" : "hashmap";
            settings.set(StateBackendOptions.STATE_BACKEND, backend);
        }
        if (backend.toLowerCase(java.util.Locale.ROOT).contains("rocksdb")
                && !existing.getOptional(CheckpointingOptions.INCREMENTAL_CHECKPOINTS)
                        .isPresent()) {
            settings.set(CheckpointingOptions.INCREMENTAL_CHECKPOINTS, true);
        }

        java.nio.file.Path temporary = null;
        String dir = config.checkpointDir();
        if (dir.isEmpty()) {
            dir = existing.getOptional(CheckpointingOptions.CHECKPOINTS_DIRECTORY)
                    .orElse("");
        }
        if (dir.isEmpty()) {
            if (deployment == Deployment.CLUSTER) {
                throw new IllegalArgumentException("no checkpoint directory: give --checkpoint-dir URI (e.g. "
                        + "s3://bucket/biometry/checkpoints or file:///shared/checkpoints) or set "
                        + CheckpointingOptions.CHECKPOINTS_DIRECTORY.key() + " in the cluster's config.yaml; the job "
                        + "does not keep checkpoints in the JobManager's memory");
            }
            temporary = temporaryCheckpointDir();
            dir = temporary.toUri().toString();
        }
        boolean dirGiven = !config.checkpointDir().isEmpty();
        String storage =
                existing.getOptional(CheckpointingOptions.CHECKPOINT_STORAGE).orElse(null);
        if (!dirGiven && storage != null && storage.equalsIgnoreCase("jobmanager")) {
            throw new IllegalArgumentException(
                    "the cluster's config sets " + CheckpointingOptions.CHECKPOINT_STORAGE.key()
                            + ": jobmanager (checkpoints in the JobManager's memory): give --checkpoint-dir URI or set "
                            + CheckpointingOptions.CHECKPOINTS_DIRECTORY.key() + " and filesystem storage");
        }
        if (dirGiven || storage == null) {
            settings.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
        }
        if (dirGiven || temporary != null) {
            settings.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, dir);
        }

        if (!config.changelogMaterialization().isZero()) {
            // Flink's changelog backend (flink-statebackend-changelog, flink-dstl-dfs): checkpoints upload the
            // state changes since the last one; the wrapped backend's snapshot runs only at each materialisation.
            settings.set(StateChangelogOptions.ENABLE_STATE_CHANGE_LOG, true);
            settings.set(StateChangelogOptions.PERIODIC_MATERIALIZATION_INTERVAL, config.changelogMaterialization());
            // TaskManagers take the log's storage from their own configuration, not from the job (Flink 2.2): for
            // `local` and `bench` this configuration starts the cluster; a cluster's config.yaml has to name it,
            // else its TaskManagers would keep the log in memory (Flink's default, for tests only).
            boolean durableLog = existing.getOptional(StateChangelogOptions.STATE_CHANGE_LOG_STORAGE)
                            .filter("filesystem"::equalsIgnoreCase)
                            .isPresent()
                    && existing.getOptional(CHANGELOG_BASE_PATH).isPresent();
            if (deployment == Deployment.CLUSTER && !durableLog) {
                throw new IllegalArgumentException("--changelog-materialization needs the cluster's config.yaml to set "
                        + StateChangelogOptions.STATE_CHANGE_LOG_STORAGE.key() + ": filesystem and "
                        + CHANGELOG_BASE_PATH.key() + " (durable storage shared by all TaskManagers, like the "
                        + "checkpoint directory): TaskManagers read the changelog's storage from their own "
                        + "configuration");
            }
            if (!durableLog) {
                settings.set(StateChangelogOptions.STATE_CHANGE_LOG_STORAGE, "filesystem");
                settings.set(CHANGELOG_BASE_PATH, dir.replaceAll("/+$", "") + "/changelog");
            }
            // A restore in NO_CLAIM mode (Flink's default) makes the first checkpoint a full snapshot, which the
            // changelog backend cannot take: every checkpoint would fail and the job restart forever. CLAIM: the
            // new job owns the checkpoint or savepoint it starts from.
            if (existing.getOptional(StateRecoveryOptions.SAVEPOINT_PATH).isPresent()
                    && existing.getOptional(StateRecoveryOptions.RESTORE_MODE)
                            .filter(mode -> mode != RecoveryClaimMode.CLAIM)
                            .isPresent()) {
                org.slf4j.LoggerFactory.getLogger(BiometryJob.class)
                        .warn(
                                "{} {} replaced by {}: the changelog state backend (--changelog-materialization) "
                                        + "restores only in CLAIM mode",
                                StateRecoveryOptions.RESTORE_MODE.key(),
                                existing.get(StateRecoveryOptions.RESTORE_MODE),
                                RecoveryClaimMode.CLAIM);
            }
            settings.set(StateRecoveryOptions.RESTORE_MODE, RecoveryClaimMode.CLAIM);
        }
        if (!existing.getOptional(CheckpointingOptions.CHECKPOINTING_TIMEOUT).isPresent()) {
            settings.set(CheckpointingOptions.CHECKPOINTING_TIMEOUT, CHECKPOINT_TIMEOUT);
        }
        if (!existing.getOptional(CheckpointingOptions.TOLERABLE_FAILURE_NUMBER).isPresent()) {
            settings.set(CheckpointingOptions.TOLERABLE_FAILURE_NUMBER, TOLERABLE_CHECKPOINT_FAILURES);
        }
        Duration checkpointTimeout =
                existing.getOptional(CheckpointingOptions.CHECKPOINTING_TIMEOUT).orElse(CHECKPOINT_TIMEOUT);
        int tolerable = existing.getOptional(CheckpointingOptions.TOLERABLE_FAILURE_NUMBER)
                .orElse(TOLERABLE_CHECKPOINT_FAILURES);
        if (config.exactlyOnce()) {
            checkTransactionTimeout(config, checkpointTimeout, tolerable);
        }
        env.configure(settings);
        return new Durability(backend, dir, temporary);
    }

    /**
     * A sink's transaction stays open from one checkpoint until the next one completes: at most
     * {@code (tolerable + 1) x (interval + checkpoint timeout)} when up to {@code tolerable} checkpoints in a row
     * fail. A Kafka transaction older than its timeout is aborted by the broker, losing its results, so the
     * timeout must cover that, with the documented factor {@value #TRANSACTION_FACTOR} for the defaults'
     * {@value #TOLERABLE_CHECKPOINT_FAILURES} tolerated failures.
     */
    static void checkTransactionTimeout(JobConfig config, Duration checkpointTimeout, int tolerable) {
        Duration needed = config.checkpointInterval().plus(checkpointTimeout).multipliedBy(tolerable + 1L);
        if (config.transactionTimeout().compareTo(needed) < 0) {
            throw new IllegalArgumentException("--transaction-timeout "
                    + config.transactionTimeout().toSeconds()
                    + "s is too short: a transaction may stay open (" + tolerable + " tolerated failed checkpoints + 1)"
                    + " x (--checkpoint-interval " + config.checkpointInterval().toMillis() + "ms + "
                    + CheckpointingOptions.CHECKPOINTING_TIMEOUT.key() + " " + checkpointTimeout.toSeconds() + "s) = "
                    + needed.toSeconds() + "s; raise --transaction-timeout (at most the brokers' "
                    + "transaction.max.timeout.ms) or shorten the checkpoint interval or timeout");
        }
    }

    /** The factor of (interval + checkpoint timeout) that the transaction timeout must reach by default. */
    static final int TRANSACTION_FACTOR = TOLERABLE_CHECKPOINT_FAILURES + 1;

    /** A new directory under {@code java.io.tmpdir}, deleted with its contents when the JVM exits. */
    private static java.nio.file.Path temporaryCheckpointDir() {
        try {
            java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("biometry-checkpoints-");
            Runtime.getRuntime()
                    .addShutdownHook(new Thread(
                            () -> org.apache.flink.util.FileUtils.deleteDirectoryQuietly(dir.toFile()),
                            "delete-" + dir.getFileName()));
            return dir;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot create a temporary checkpoint directory", e);
        }
    }

    static HttpMediaFetcher httpFetcher(JobConfig c) {
        return HttpMediaFetcher.builder()
                .allowHosts(c.httpAllowHosts())
                .allowPrivateAddresses(c.httpAllowPrivate())
                .maxRedirects(c.httpMaxRedirects())
                .connectTimeout(c.httpConnectTimeout())
                .timeout(c.httpTimeout())
                .maxBytes(c.mediaMaxBytes())
                .build();
    }

    public static FacePolicy facePolicy(JobConfig c) {
        return new FacePolicy(
                FacePolicy.MultipleFaces.valueOf(c.facePolicy().toUpperCase(java.util.Locale.ROOT)),
                c.minFaceSide(),
                c.minEyeDistance(),
                c.minSharpness(),
                c.minFaceScore());
    }

    public static MediaAnalyzer.Limits mediaLimits(JobConfig c) {
        return new MediaAnalyzer.Limits(
                c.maxPixels(),
                new VideoLimits(
                        c.videoMaxDuration(),
                        c.videoMaxFramePixels(),
                        VideoLimits.DEFAULTS.maxFramesRead(),
                        VideoLimits.DEFAULTS.maxDecodeTime()),
                new ZipLimits(c.zipMaxEntries(), c.zipMaxEntryBytes(), c.zipMaxTotalBytes(), c.zipMaxRatio()),
                c.frames(),
                c.bestFrames());
    }

    /** Adds the topology to {@code env}. */
    public static void build(StreamExecutionEnvironment env, JobConfig config, Endpoints endpoints) {
        build(env, config, endpoints, null);
    }

    /** As above, each slot running the analyser {@code engines} opens instead of the face engine (null: the engine). */
    public static void build(
            StreamExecutionEnvironment env, JobConfig config, Endpoints endpoints, EngineFactory engines) {
        boolean nonPersistent = config.nonPersistent();
        DataStream<RawRecord> requestsRaw = env.fromSource(
                        endpoints.requests(), WatermarkStrategy.noWatermarks(), "requests-source")
                .uid("requests-source");
        // Without a media topic (batch files: media come inline) the media input is an empty stream.
        DataStream<RawRecord> mediaRaw = endpoints.media() == null
                ? requestsRaw.filter(r -> false).name("no-media-topic").uid("no-media-topic")
                : env.fromSource(endpoints.media(), WatermarkStrategy.noWatermarks(), "media-source")
                        .uid("media-source");
        InputLimits limits = config.inputLimits();
        SingleOutputStreamOperator<MediaRef> media = mediaRaw.process(new ParseFunctions.Media(limits))
                .name("parse-media")
                .uid("parse-media");
        SingleOutputStreamOperator<RequestEnvelope> requests = requestsRaw
                .process(new ParseFunctions.Requests(limits))
                .name("parse-requests")
                .uid("parse-requests");

        SingleOutputStreamOperator<AnalysisStart> starts = media.connect(requests)
                .keyBy(MediaRef::folderId, RequestEnvelope::folderId)
                .process(new FolderJoinFunction(
                        config.mediaWait(),
                        config.folderTtl(),
                        config.defaultThreshold(),
                        nonPersistent,
                        limits,
                        config.mediaTopic()))
                .name("folder-join")
                .uid("folder-join");

        // analyse_id is a global key: one request at a time may hold it (see ClaimFunction). In Flink's BATCH mode
        // the stages run one after another, so there are no backstop records (they would overtake the results).
        boolean batch = env.getConfiguration().get(ExecutionOptions.RUNTIME_MODE) == RuntimeExecutionMode.BATCH;
        SingleOutputStreamOperator<EmbedTask> tasks = starts.keyBy(
                        s -> s.ticket().analyseId())
                .process(new ClaimFunction(config.analysisTimeout(), !batch, config.requestsTopic()))
                .name("claim-analysis")
                .uid("claim-analysis");

        SingleOutputStreamOperator<FetchedTask> fetched = AsyncDataStream.unorderedWait(
                        tasks,
                        new FetchFunction(httpFetcher(config), config.fetchCapacity()),
                        config.httpTimeout().toMillis() + 5_000,
                        TimeUnit.MILLISECONDS,
                        config.fetchCapacity())
                .name("fetch-media")
                .uid("fetch-media");

        SingleOutputStreamOperator<EmbeddedMedia> embedded = fetched.keyBy(
                        f -> f.task().media().mediaId())
                .process(new EmbedFunction(
                                config.modelsDir(),
                                config.detectionScore(),
                                config.ortThreads(),
                                facePolicy(config),
                                mediaLimits(config),
                                new MediaFetcher(config.mediaRoots(), config.mediaMaxBytes()),
                                nonPersistent ? Duration.ZERO : config.embeddingCacheTtl(),
                                config.embeddingCacheSize(),
                                config.embeddingPrecision())
                        .withEngine(engines))
                .name("embed-faces")
                .uid("embed-faces");

        SingleOutputStreamOperator<ResultRecord> matched = embedded.keyBy(
                        e -> e.ticket().analyseId())
                .process(new MatchFunction(config.embeddingPrecision().calibration(), config.analysisTimeout()))
                .name("match")
                .uid("match");

        // Bounded right after ordering, so that the sink, the webhooks and the folder roll-up all see the bounded
        // record.
        DataStream<ResultRecord> results = tasks.getSideOutput(ClaimFunction.RESULTS)
                .connect(matched)
                .keyBy(ResultRecord::analyseId, ResultRecord::analyseId)
                .process(new ResultOrderFunction(config.folderTtl()))
                .name("order-results")
                .uid("order-results")
                .map(OutputBounds.results(config.maxRecordBytes()))
                .name("bound-results")
                .uid("bound-results");
        (endpoints.finalResultsOnly()
                        ? results.filter(ResultRecord::isFinal)
                                .name("final-results")
                                .uid("final-results")
                        : results)
                .sinkTo(endpoints.results())
                .name("results-sink")
                .uid("results-sink");

        if (endpoints.folders() != null) {
            DataStream<MediaRef> inlineMedia = requests.flatMap((RequestEnvelope envelope, Collector<MediaRef> out) -> {
                        for (MediaRef m : envelope.media()) {
                            out.collect(m);
                        }
                    })
                    .returns(MediaRef.class)
                    .name("inline-media")
                    .uid("inline-media");
            media.union(inlineMedia)
                    .connect(results)
                    .keyBy(MediaRef::folderId, ResultRecord::folderId)
                    .process(new FolderStatusFunction(config.folderTtl(), nonPersistent, limits.maxMediaPerFolder()))
                    .name("folder-status")
                    .uid("folder-status")
                    .map(OutputBounds.folders(config.maxRecordBytes()))
                    .name("bound-folders")
                    .uid("bound-folders")
                    .sinkTo(endpoints.folders())
                    .name("folders-sink")
                    .uid("folders-sink");
        }

        DataStream<DeadLetter> webhookDeadLetters = WebhookStage.attach(results, config);
        media.getSideOutput(ParseFunctions.DEAD_LETTERS)
                .union(
                        requests.getSideOutput(ParseFunctions.DEAD_LETTERS),
                        starts.getSideOutput(FolderJoinFunction.DEAD_LETTERS),
                        tasks.getSideOutput(ClaimFunction.DEAD_LETTERS),
                        webhookDeadLetters)
                .map(OutputBounds.deadLetters(limits.maxDeadLetterPayloadBytes(), config.maxRecordBytes()))
                .name("bound-dead-letters")
                .uid("bound-dead-letters")
                .sinkTo(endpoints.deadLetters())
                .name("dead-letter-sink")
                .uid("dead-letter-sink");
    }
}
