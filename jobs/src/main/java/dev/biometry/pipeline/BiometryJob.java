package dev.biometry.pipeline;

import dev.biometry.api.DeadLetter;
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
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.core.execution.CheckpointingMode;
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

    /** Applies the job-wide settings (parallelism, exactly-once checkpointing) to {@code env}. */
    public static void configure(StreamExecutionEnvironment env, JobConfig config) {
        env.setParallelism(config.parallelism());
        env.enableCheckpointing(config.checkpointInterval().toMillis(), CheckpointingMode.EXACTLY_ONCE);
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

    static FacePolicy facePolicy(JobConfig c) {
        return new FacePolicy(FacePolicy.MultipleFaces.valueOf(c.facePolicy().toUpperCase(java.util.Locale.ROOT)),
                c.minFaceSide(), c.minEyeDistance(), c.minSharpness(), c.minFaceScore());
    }

    static MediaAnalyzer.Limits mediaLimits(JobConfig c) {
        return new MediaAnalyzer.Limits(c.maxPixels(),
                new VideoLimits(c.videoMaxDuration(), c.videoMaxFramePixels(), VideoLimits.DEFAULTS.maxFramesRead(),
                        VideoLimits.DEFAULTS.maxDecodeTime()),
                new ZipLimits(c.zipMaxEntries(), c.zipMaxEntryBytes(), c.zipMaxTotalBytes(), c.zipMaxRatio()),
                c.frames(), c.bestFrames());
    }

    /** Adds the topology to {@code env}. */
    public static void build(StreamExecutionEnvironment env, JobConfig config, Endpoints endpoints) {
        boolean nonPersistent = config.nonPersistent();
        DataStream<RawRecord> requestsRaw = env
                .fromSource(endpoints.requests(), WatermarkStrategy.noWatermarks(), "requests-source").uid("requests-source");
        // Without a media topic (batch files: media come inline) the media input is an empty stream.
        DataStream<RawRecord> mediaRaw = endpoints.media() == null
                ? requestsRaw.filter(r -> false).name("no-media-topic").uid("no-media-topic")
                : env.fromSource(endpoints.media(), WatermarkStrategy.noWatermarks(), "media-source").uid("media-source");
        SingleOutputStreamOperator<MediaRef> media = mediaRaw
                .process(new ParseFunctions.Media()).name("parse-media").uid("parse-media");
        SingleOutputStreamOperator<RequestEnvelope> requests = requestsRaw
                .process(new ParseFunctions.Requests()).name("parse-requests").uid("parse-requests");

        SingleOutputStreamOperator<EmbedTask> tasks = media
                .connect(requests)
                .keyBy(MediaRef::folderId, RequestEnvelope::folderId)
                .process(new FolderJoinFunction(config.mediaWait(), config.folderTtl(), config.defaultThreshold(), nonPersistent))
                .name("folder-join").uid("folder-join");

        SingleOutputStreamOperator<FetchedTask> fetched = AsyncDataStream
                .unorderedWait(tasks, new FetchFunction(httpFetcher(config), config.fetchCapacity()),
                        config.httpTimeout().toMillis() + 5_000, TimeUnit.MILLISECONDS, config.fetchCapacity())
                .name("fetch-media").uid("fetch-media");

        SingleOutputStreamOperator<EmbeddedMedia> embedded = fetched
                .keyBy(f -> f.task().media().mediaId())
                .process(new EmbedFunction(config.modelsDir(), config.detectionScore(), config.ortThreads(),
                        facePolicy(config), mediaLimits(config),
                        new MediaFetcher(config.mediaRoots(), config.mediaMaxBytes()),
                        nonPersistent ? Duration.ZERO : config.embeddingCacheTtl(), config.embeddingPrecision()))
                .name("embed-faces").uid("embed-faces");

        SingleOutputStreamOperator<ResultRecord> matched = embedded
                .keyBy(e -> e.ticket().analyseId())
                .process(new MatchFunction(config.embeddingPrecision().calibration(), config.analysisTimeout()))
                .name("match").uid("match");

        DataStream<ResultRecord> results = tasks.getSideOutput(FolderJoinFunction.RESULTS)
                .connect(matched)
                .keyBy(ResultRecord::analyseId, ResultRecord::analyseId)
                .process(new ResultOrderFunction(config.folderTtl()))
                .name("order-results").uid("order-results");
        (endpoints.finalResultsOnly() ? results.filter(ResultRecord::isFinal).name("final-results").uid("final-results")
                : results)
                .sinkTo(endpoints.results()).name("results-sink").uid("results-sink");

        if (endpoints.folders() != null) {
            DataStream<MediaRef> inlineMedia = requests
                    .flatMap((RequestEnvelope envelope, Collector<MediaRef> out) -> {
                        for (MediaRef m : envelope.media()) {
                            out.collect(m);
                        }
                    })
                    .returns(MediaRef.class)
                    .name("inline-media").uid("inline-media");
            media.union(inlineMedia)
                    .connect(results)
                    .keyBy(MediaRef::folderId, ResultRecord::folderId)
                    .process(new FolderStatusFunction(config.folderTtl(), nonPersistent))
                    .name("folder-status").uid("folder-status")
                    .sinkTo(endpoints.folders()).name("folders-sink").uid("folders-sink");
        }

        DataStream<DeadLetter> webhookDeadLetters = WebhookStage.attach(results, config);
        media.getSideOutput(ParseFunctions.DEAD_LETTERS)
                .union(requests.getSideOutput(ParseFunctions.DEAD_LETTERS), webhookDeadLetters)
                .sinkTo(endpoints.deadLetters()).name("dead-letter-sink").uid("dead-letter-sink");
    }
}
