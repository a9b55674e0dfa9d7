package dev.biometry.config;

import dev.biometry.api.InputLimits;
import dev.biometry.face.EmbeddingPrecision;
import java.io.IOException;
import java.io.Reader;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.configuration.description.TextElement;

/**
 * Every setting of the biometry job: typed, immutable, built and validated once by {@link #fromOptions} (the
 * command line's {@code --name value}) or {@link #fromConfiguration} (a Flink configuration, e.g. a cluster's
 * {@code config.yaml}, with the same options under {@code biometry.<name>}). Each option is one Flink
 * {@link ConfigOption} below; {@link #OPTIONS} lists them for the CLI and the option table of docs/operations.md.
 */
public final class JobConfig implements Serializable {

    private static final long serialVersionUID = 2L;

    /** Prefix of the options' keys in a Flink configuration: {@code --media-wait} is {@code biometry.media-wait}. */
    public static final String KEY_PREFIX = "biometry.";

    /** Environment variable holding the webhook secret when neither webhook secret option is given. */
    public static final String WEBHOOK_SECRET_ENV = "BIOMETRY_WEBHOOK_SECRET";

    /** Values of {@code --starting-offsets}. */
    public enum StartingOffsets {
        EARLIEST,
        LATEST,
        COMMITTED_OR_EARLIEST;

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    /** Values of {@code --delivery-guarantee}. */
    public enum DeliveryGuarantee {
        EXACTLY_ONCE,
        AT_LEAST_ONCE;

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    /** Values of {@code --transaction-naming}. */
    public enum TransactionNaming {
        INCREMENTING,
        POOLING;

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Values of {@code --face-policy}. */
    public enum FacePolicy {
        LARGEST,
        REJECT;

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private static ConfigOptions.OptionBuilder key(String name) {
        return ConfigOptions.key(KEY_PREFIX + name);
    }

    // ---- the options, in the order of the option table

    public static final ConfigOption<String> BOOTSTRAP_SERVERS = key("bootstrap-servers")
            .stringType()
            .noDefaultValue()
            .withDescription("Kafka bootstrap servers (host:port,...); required for `run`");

    public static final ConfigOption<String> MEDIA_TOPIC = key("media-topic")
            .stringType()
            .defaultValue("biometry.media")
            .withDescription("input: media references, key folder_id");

    public static final ConfigOption<String> REQUESTS_TOPIC = key("requests-topic")
            .stringType()
            .defaultValue("biometry.requests")
            .withDescription("input: analysis requests, key folder_id");

    public static final ConfigOption<String> RESULTS_TOPIC = key("results-topic")
            .stringType()
            .defaultValue("biometry.results")
            .withDescription("output: Oz analysis objects, key analyse_id");

    public static final ConfigOption<String> FOLDERS_TOPIC = key("folders-topic")
            .stringType()
            .defaultValue("biometry.folders")
            .withDescription("output: folder objects with status roll-up, key folder_id");

    public static final ConfigOption<String> DEAD_LETTER_TOPIC = key("dead-letter-topic")
            .stringType()
            .defaultValue("biometry.dead-letter")
            .withDescription(
                    "output: input records that failed parsing or validation, and webhook deliveries that failed for good");

    public static final ConfigOption<Boolean> CREATE_TOPICS = key("create-topics")
            .booleanType()
            .defaultValue(false)
            .withDescription(
                    "at start-up, create the five topics that are missing (--parallelism partitions, the broker's default "
                            + "replication factor); without it a missing topic fails the submission, naming the topics");

    public static final ConfigOption<String> GROUP_ID = key("group-id")
            .stringType()
            .defaultValue("biometry")
            .withDescription("Kafka consumer group id (offsets are committed on checkpoints)");

    public static final ConfigOption<StartingOffsets> STARTING_OFFSETS = key("starting-offsets")
            .enumType(StartingOffsets.class)
            .defaultValue(StartingOffsets.COMMITTED_OR_EARLIEST)
            .withDescription("where to start without a checkpoint: earliest, latest or committed-or-earliest");

    public static final ConfigOption<String> TRANSACTIONAL_ID_PREFIX = key("transactional-id-prefix")
            .stringType()
            .defaultValue("")
            .withDescription("prefix of the exactly-once sinks' transactional ids (each sink appends its name); empty: "
                    + "`<group-id>.<results-topic>`, the same on every restart of a job and different between "
                    + "jobs with different group ids. Two jobs sharing a prefix abort each other's transactions");

    public static final ConfigOption<Duration> TRANSACTION_TIMEOUT = key("transaction-timeout")
            .durationType()
            .defaultValue(Duration.ofMinutes(10))
            .withDescription("Kafka transaction.timeout.ms of the exactly-once sinks: 5 min below the brokers' default "
                    + "transaction.max.timeout.ms (15m); must be at least 3 x (--checkpoint-interval + the "
                    + "checkpoint timeout), checked at start (see Checkpoints and restarts)");

    public static final ConfigOption<String> KAFKA_PROPERTIES_FILE = key("kafka-properties-file")
            .stringType()
            .defaultValue("")
            .withDescription(
                    "Java properties file of Kafka client settings for every consumer, producer and admin client of the job (TLS, SASL: `security.protocol`, `ssl.*`, `sasl.*`), read at start-up so that no secret is on the command line; the job's own settings (bootstrap servers, group id, isolation level, transactions, serializers) take precedence");

    public static final ConfigOption<Duration> CHECKPOINT_INTERVAL = key("checkpoint-interval")
            .durationType()
            .defaultValue(Duration.ofSeconds(10))
            .withDescription(
                    "checkpoint interval; results become visible to read_committed consumers on each checkpoint");

    public static final ConfigOption<DeliveryGuarantee> DELIVERY_GUARANTEE = key("delivery-guarantee")
            .enumType(DeliveryGuarantee.class)
            .defaultValue(DeliveryGuarantee.EXACTLY_ONCE)
            .withDescription("how the Kafka sinks write: `exactly-once` in transactions committed with each checkpoint "
                    + "(read_committed consumers see a result after the next checkpoint, never twice); "
                    + "`at-least-once` without transactions (a result is readable as soon as it is written, the "
                    + "checkpoint only flushes; after a restart some results are written again, so consumers "
                    + "de-duplicate by analyse_id and state; see docs/topology.md)");

    public static final ConfigOption<TransactionNaming> TRANSACTION_NAMING = key("transaction-naming")
            .enumType(TransactionNaming.class)
            .defaultValue(TransactionNaming.POOLING)
            .withDescription("how the exactly-once sinks name their Kafka transactions (the Kafka connector's "
                    + "TransactionNamingStrategy): `pooling`, a few transactional ids reused (fewer InitProducerId "
                    + "calls and less broker state; the brokers must allow ListTransactions), or `incrementing`, a "
                    + "new id per checkpoint and subtask (the connector's default; see docs/performance.md)");

    public static final ConfigOption<Duration> BUFFER_TIMEOUT = key("buffer-timeout")
            .durationType()
            .defaultValue(Duration.ofMillis(25))
            .withDescription("longest time a record waits in a network buffer before the buffer is sent to the next "
                    + "stage (Flink's execution.buffer-timeout.interval, 100ms by default, which each of the job's "
                    + "five hops would wait at a few records per second); 0 sends every record at once. Shorter "
                    + "costs throughput (10ms: a fifth fewer analyses/s on 2 cores) and, with exactly-once, no "
                    + "latency a read_committed client sees; `10ms` for the lowest latency in at-least-once mode "
                    + "(see docs/performance.md)");

    public static final ConfigOption<String> STATE_BACKEND = key("state-backend")
            .stringType()
            .defaultValue("")
            .withDescription(
                    "`hashmap` (state on the heap) or `rocksdb` (on local disk, incremental checkpoints); empty: "
                            + "`rocksdb` for `run` unless the cluster's config sets state.backend.type, `hashmap` for "
                            + "`local` and `bench`");

    public static final ConfigOption<Duration> CHANGELOG_MATERIALIZATION = key("changelog-materialization")
            .durationType()
            .defaultValue(Duration.ZERO)
            .withDescription("0: off, every checkpoint snapshots the state backend (all heap state, or RocksDB's new "
                    + "files); > 0: Flink's changelog state backend, which also logs every state change (`local`, "
                    + "`bench`: under `changelog/` in the checkpoint directory; a cluster: where its config.yaml's "
                    + "state.changelog.dstl.dfs.base-path says, else `run` refuses to start), so a checkpoint uploads "
                    + "only the changes since the last one, and snapshots the state backend (materialises) this often; "
                    + "restores run in CLAIM mode; for exactly-once with sub-second checkpoints, e.g. 10s (see "
                    + "docs/topology.md)");

    public static final ConfigOption<String> CHECKPOINT_DIR = key("checkpoint-dir")
            .stringType()
            .defaultValue("")
            .withDescription(
                    "URI of the durable checkpoint storage (`file:///...`, `s3://...`; a plain path is a local folder); empty: for `run` the cluster's "
                            + "execution.checkpointing.dir (the job refuses to start without one), for `local` and "
                            + "`bench` a new temporary directory per run, deleted on exit");

    public static final ConfigOption<Integer> PARALLELISM = key("parallelism")
            .intType()
            .defaultValue(Runtime.getRuntime().availableProcessors())
            .withDescription("job parallelism (default: cores); each slot runs one face engine");

    public static final ConfigOption<String> MODELS = key("models")
            .stringType()
            .defaultValue("models")
            .withDescription("folder with fr_detect.onnx, fr_landmark.onnx, fr_feature.onnx");

    public static final ConfigOption<String> MEDIA_ROOTS = key("media-roots")
            .stringType()
            .defaultValue("")
            .withDescription(
                    "comma-separated folders that file:// media URIs may point into; empty refuses every file URI");

    public static final ConfigOption<MemorySize> MEDIA_MAX_BYTES = key("media-max-bytes")
            .memoryType()
            .defaultValue(new MemorySize(10L * 1024 * 1024))
            .withDescription("largest media file read, in bytes (Oz default 10 MiB)");

    public static final ConfigOption<Float> DETECTION_SCORE =
            key("detection-score").floatType().defaultValue(0.65f).withDescription("minimum detector score for a face");

    public static final ConfigOption<Integer> ORT_THREADS = key("ort-threads")
            .intType()
            .defaultValue(1)
            .withDescription("ONNX Runtime intra-op threads per session (one session set per slot)");

    public static final ConfigOption<EmbeddingPrecision> EMBEDDING_PRECISION = key("embedding-precision")
            .enumType(EmbeddingPrecision.class)
            .defaultValue(EmbeddingPrecision.DEFAULT)
            .withDescription(
                    "embedding model: `int8` (fr_feature.int8.onnx, made by models/fetch.sh) or `fp32` (fr_feature.onnx); "
                            + "each has its own calibration (see models/README.md)");

    public static final ConfigOption<Double> THRESHOLD = key("threshold")
            .doubleType()
            .defaultValue(0.85)
            .withDescription("default confidence threshold for SUCCESS when a request gives none");

    public static final ConfigOption<Duration> MEDIA_WAIT = key("media-wait")
            .durationType()
            .defaultValue(Duration.ofSeconds(60))
            .withDescription(
                    "how long an analysis waits for media named in source_media that are not yet known (processing time)");

    public static final ConfigOption<Duration> EMBEDDING_CACHE_TTL = key("embedding-cache-ttl")
            .durationType()
            .defaultValue(Duration.ofHours(24))
            .withDescription("how long a media's embedding is kept so re-verification skips inference (0 = off)");

    public static final ConfigOption<Integer> EMBEDDING_CACHE_SIZE = key("embedding-cache-size")
            .intType()
            .defaultValue(10_000)
            .withDescription(
                    "media whose embedding each slot keeps in memory for --embedding-cache-ttl (about 3 KB "
                            + "each; when full, the least used leave first (Caffeine's W-TinyLFU); not checkpointed: a restarted job starts empty)");

    public static final ConfigOption<Duration> FOLDER_TTL = key("folder-ttl")
            .durationType()
            .defaultValue(Duration.ofHours(24))
            .withDescription("how long a folder's media references and status are kept after their last update");

    public static final ConfigOption<Duration> ANALYSIS_TIMEOUT = key("analysis-timeout")
            .durationType()
            .defaultValue(Duration.ofMinutes(10))
            .withDescription("an analysis whose embeddings are not all back by then FAILS (error 0)");

    public static final ConfigOption<Integer> MAX_META_DATA_BYTES = key("max-meta-data-bytes")
            .intType()
            .defaultValue(4096)
            .withDescription(
                    "largest `meta_data` object of a media or an analysis (compact JSON, UTF-8 bytes); larger: dead letter, error 4");

    public static final ConfigOption<Integer> MAX_ORIGINAL_NAME_CHARS = key("max-original-name-chars")
            .intType()
            .defaultValue(255)
            .withDescription("longest media `original_name`; longer: dead letter, error 4");

    public static final ConfigOption<Integer> MAX_MEDIA_PER_ANALYSIS = key("max-media-per-analysis")
            .intType()
            .defaultValue(100)
            .withDescription(
                    "most media one analysis compares (`source_media` entries: dead letter, error 4; eligible media of "
                            + "the folder when `source_media` is omitted: FAILED analysis, error 4)");

    public static final ConfigOption<Integer> MAX_MEDIA_PER_FOLDER = key("max-media-per-folder")
            .intType()
            .defaultValue(1000)
            .withDescription(
                    "most media a folder holds: a further media is a dead letter (error 4), a request whose inline media "
                            + "would pass it FAILS its analyses (error 4); also the most media and analyses a folder record lists");

    public static final ConfigOption<Integer> DEAD_LETTER_MAX_PAYLOAD_BYTES = key("dead-letter-max-payload-bytes")
            .intType()
            .defaultValue(65536)
            .withDescription(
                    "largest copy of the input record in a dead letter (UTF-8 bytes, or raw bytes before base64); a "
                            + "longer one is cut and flagged `payload_truncated`");

    public static final ConfigOption<Integer> MAX_RECORD_BYTES = key("max-record-bytes")
            .intType()
            .defaultValue(1000000)
            .withDescription(
                    "largest output record (UTF-8 bytes of its JSON): a larger analysis is replaced by a small FAILED "
                            + "record (error 4), a larger folder record by its roll-up without lists, a larger dead letter "
                            + "loses its payload (metric `oversizedRecords`); the sinks' `max.request.size` is this plus 16 KiB "
                            + "and must not exceed the broker's `message.max.bytes` (default 1048588)");

    public static final ConfigOption<Boolean> NON_PERSISTENT = key("non-persistent")
            .booleanType()
            .defaultValue(false)
            .withDescription(
                    "instant mode: no media reference, embedding or analysis state outlives its analysis' final result "
                            + "(embedding cache off, state cleared on completion, --folder-ttl as a backstop)");

    public static final ConfigOption<String> HTTP_ALLOW_HOSTS = key("http-allow-hosts")
            .stringType()
            .defaultValue("")
            .withDescription(
                    "comma-separated hosts that http(s) media may come from (`*.example.com` for subdomains); empty refuses all");

    public static final ConfigOption<Boolean> HTTP_ALLOW_PRIVATE = key("http-allow-private")
            .booleanType()
            .defaultValue(false)
            .withDescription(
                    "allow http(s) media from loopback, link-local and private addresses (checked after DNS and on every redirect)");

    public static final ConfigOption<Duration> HTTP_CONNECT_TIMEOUT = key("http-connect-timeout")
            .durationType()
            .defaultValue(Duration.ofSeconds(5))
            .withDescription("connect timeout of a media download");

    public static final ConfigOption<Duration> HTTP_TIMEOUT = key("http-timeout")
            .durationType()
            .defaultValue(Duration.ofSeconds(20))
            .withDescription("total time allowed for one media download, redirects included");

    public static final ConfigOption<Integer> HTTP_MAX_REDIRECTS = key("http-max-redirects")
            .intType()
            .defaultValue(3)
            .withDescription("redirects followed per media download");

    public static final ConfigOption<Integer> FETCH_CAPACITY = key("fetch-capacity")
            .intType()
            .defaultValue(16)
            .withDescription("media downloads in flight per slot (async I/O capacity)");

    public static final ConfigOption<Long> MAX_PIXELS = key("max-pixels")
            .longType()
            .defaultValue(40000000L)
            .withDescription("largest image accepted (width x height from its header, before decoding)");

    public static final ConfigOption<Double> VIDEO_MAX_SECONDS = key("video-max-seconds")
            .doubleType()
            .defaultValue(10.0)
            .withDescription("longest video accepted, from its container metadata");

    public static final ConfigOption<Long> VIDEO_MAX_FRAME_PIXELS = key("video-max-frame-pixels")
            .longType()
            .defaultValue(2073600L)
            .withDescription("largest video or shots-set frame accepted (width x height; 1920x1080 by default)");

    public static final ConfigOption<Integer> FRAMES =
            key("frames").intType().defaultValue(10).withDescription("frames sampled evenly from a video or shots set");

    public static final ConfigOption<Integer> BEST_FRAMES = key("best-frames")
            .intType()
            .defaultValue(3)
            .withDescription("best frames (by best-shot score) whose embeddings form a video's template");

    public static final ConfigOption<Integer> ZIP_MAX_ENTRIES =
            key("zip-max-entries").intType().defaultValue(200).withDescription("most entries in a shots-set ZIP");

    public static final ConfigOption<MemorySize> ZIP_MAX_ENTRY_BYTES = key("zip-max-entry-bytes")
            .memoryType()
            .defaultValue(new MemorySize(10L << 20))
            .withDescription("largest uncompressed entry of a shots-set ZIP");

    public static final ConfigOption<MemorySize> ZIP_MAX_TOTAL_BYTES = key("zip-max-total-bytes")
            .memoryType()
            .defaultValue(new MemorySize(50L << 20))
            .withDescription("largest total uncompressed size of a shots-set ZIP");

    public static final ConfigOption<Integer> ZIP_MAX_RATIO = key("zip-max-ratio")
            .intType()
            .defaultValue(100)
            .withDescription("largest compression ratio of a shots-set ZIP entry and of the whole "
                    + "archive, checked after 1 MiB inflated (zip-bomb guard)");

    public static final ConfigOption<FacePolicy> FACE_POLICY = key("face-policy")
            .enumType(FacePolicy.class)
            .defaultValue(FacePolicy.LARGEST)
            .withDescription(
                    "several faces in a media: `largest` uses the main face, `reject` refuses the media (error 4)");

    public static final ConfigOption<Integer> MIN_FACE_SIDE = key("min-face-side")
            .intType()
            .defaultValue(40)
            .withDescription("quality gate: smallest face box side in pixels");

    public static final ConfigOption<Double> MIN_EYE_DISTANCE = key("min-eye-distance")
            .doubleType()
            .defaultValue(16.0)
            .withDescription("quality gate: smallest distance between the eye centres in pixels");

    public static final ConfigOption<Double> MIN_SHARPNESS = key("min-sharpness")
            .doubleType()
            .defaultValue(15.0)
            .withDescription("quality gate: smallest Laplacian variance of the aligned inner face");

    public static final ConfigOption<Double> MIN_FACE_SCORE = key("min-face-score")
            .doubleType()
            .defaultValue(0.8)
            .withDescription("quality gate: smallest detector score of the chosen face");

    public static final ConfigOption<String> WEBHOOK_SECRET = key("webhook-secret")
            .stringType()
            .defaultValue("")
            .withDescription(
                    "HMAC-SHA256 key signing webhook deliveries (X-Biometry-Signature); empty sends them unsigned (a warning is logged). "
                            + "Command lines are visible to every local user: prefer `--webhook-secret-file` or the environment variable `"
                            + "BIOMETRY_WEBHOOK_SECRET` (used when neither option is given)");

    public static final ConfigOption<String> WEBHOOK_SECRET_FILE = key("webhook-secret-file")
            .stringType()
            .defaultValue("")
            .withDescription(
                    "file holding the webhook secret (UTF-8, one trailing newline ignored), read once at start-up; not with `--webhook-secret`");

    public static final ConfigOption<String> WEBHOOK_ALLOW_HOSTS = key("webhook-allow-hosts")
            .stringType()
            .defaultValue("")
            .withDescription(
                    "comma-separated hosts that resolution_endpoint webhooks may go to (`*.example.com` for subdomains); empty refuses all");

    public static final ConfigOption<Boolean> WEBHOOK_ALLOW_HTTP = key("webhook-allow-http")
            .booleanType()
            .defaultValue(false)
            .withDescription("allow plain http:// webhook endpoints (https only by default)");

    public static final ConfigOption<Boolean> WEBHOOK_ALLOW_PRIVATE = key("webhook-allow-private")
            .booleanType()
            .defaultValue(false)
            .withDescription("allow webhooks to loopback, link-local and private addresses (checked after DNS)");

    public static final ConfigOption<Duration> WEBHOOK_DEADLINE = key("webhook-deadline")
            .durationType()
            .defaultValue(Duration.ofHours(24))
            .withDescription(
                    "how long a webhook delivery is retried before it goes to the dead-letter topic (error 11)");

    public static final ConfigOption<Duration> WEBHOOK_INITIAL_BACKOFF = key("webhook-initial-backoff")
            .durationType()
            .defaultValue(Duration.ofSeconds(1))
            .withDescription("delay before the first webhook retry; doubles per attempt, with jitter");

    public static final ConfigOption<Duration> WEBHOOK_MAX_BACKOFF = key("webhook-max-backoff")
            .durationType()
            .defaultValue(Duration.ofMinutes(10))
            .withDescription("largest delay between two webhook attempts");

    public static final ConfigOption<Integer> WEBHOOK_MAX_IN_FLIGHT = key("webhook-max-in-flight")
            .intType()
            .defaultValue(32)
            .withDescription("webhook requests in flight per slot");

    public static final ConfigOption<Integer> WEBHOOK_MAX_PENDING = key("webhook-max-pending")
            .intType()
            .defaultValue(10000)
            .withDescription(
                    "webhook deliveries waiting or retrying per slot (each keeps its result JSON); when full, a new "
                            + "delivery goes to the dead-letter topic at once (error 11, \"webhook queue full\")");

    public static final ConfigOption<Duration> WEBHOOK_CONNECT_TIMEOUT = key("webhook-connect-timeout")
            .durationType()
            .defaultValue(Duration.ofSeconds(5))
            .withDescription("connect timeout of a webhook attempt");

    public static final ConfigOption<Duration> WEBHOOK_TIMEOUT = key("webhook-timeout")
            .durationType()
            .defaultValue(Duration.ofSeconds(10))
            .withDescription("total time allowed for one webhook attempt");

    private static final List<ConfigOption<?>> ALL = List.of(
            BOOTSTRAP_SERVERS,
            MEDIA_TOPIC,
            REQUESTS_TOPIC,
            RESULTS_TOPIC,
            FOLDERS_TOPIC,
            DEAD_LETTER_TOPIC,
            CREATE_TOPICS,
            GROUP_ID,
            STARTING_OFFSETS,
            TRANSACTIONAL_ID_PREFIX,
            TRANSACTION_TIMEOUT,
            KAFKA_PROPERTIES_FILE,
            CHECKPOINT_INTERVAL,
            DELIVERY_GUARANTEE,
            TRANSACTION_NAMING,
            BUFFER_TIMEOUT,
            STATE_BACKEND,
            CHANGELOG_MATERIALIZATION,
            CHECKPOINT_DIR,
            PARALLELISM,
            MODELS,
            MEDIA_ROOTS,
            MEDIA_MAX_BYTES,
            DETECTION_SCORE,
            ORT_THREADS,
            EMBEDDING_PRECISION,
            THRESHOLD,
            MEDIA_WAIT,
            EMBEDDING_CACHE_TTL,
            EMBEDDING_CACHE_SIZE,
            FOLDER_TTL,
            ANALYSIS_TIMEOUT,
            MAX_META_DATA_BYTES,
            MAX_ORIGINAL_NAME_CHARS,
            MAX_MEDIA_PER_ANALYSIS,
            MAX_MEDIA_PER_FOLDER,
            DEAD_LETTER_MAX_PAYLOAD_BYTES,
            MAX_RECORD_BYTES,
            NON_PERSISTENT,
            HTTP_ALLOW_HOSTS,
            HTTP_ALLOW_PRIVATE,
            HTTP_CONNECT_TIMEOUT,
            HTTP_TIMEOUT,
            HTTP_MAX_REDIRECTS,
            FETCH_CAPACITY,
            MAX_PIXELS,
            VIDEO_MAX_SECONDS,
            VIDEO_MAX_FRAME_PIXELS,
            FRAMES,
            BEST_FRAMES,
            ZIP_MAX_ENTRIES,
            ZIP_MAX_ENTRY_BYTES,
            ZIP_MAX_TOTAL_BYTES,
            ZIP_MAX_RATIO,
            FACE_POLICY,
            MIN_FACE_SIDE,
            MIN_EYE_DISTANCE,
            MIN_SHARPNESS,
            MIN_FACE_SCORE,
            WEBHOOK_SECRET,
            WEBHOOK_SECRET_FILE,
            WEBHOOK_ALLOW_HOSTS,
            WEBHOOK_ALLOW_HTTP,
            WEBHOOK_ALLOW_PRIVATE,
            WEBHOOK_DEADLINE,
            WEBHOOK_INITIAL_BACKOFF,
            WEBHOOK_MAX_BACKOFF,
            WEBHOOK_MAX_IN_FLIGHT,
            WEBHOOK_MAX_PENDING,
            WEBHOOK_CONNECT_TIMEOUT,
            WEBHOOK_TIMEOUT);

    /** One documented option: its name, default as text (null = required or unset) and meaning. */
    public record Option(String name, String defaultValue, String description) {}

    /** The options (name without the prefix, default as text, meaning), in the order of the option table. */
    public static final List<Option> OPTIONS = ALL.stream()
            .map(o -> new Option(name(o), defaultText(o), description(o)))
            .toList();

    private static final Map<String, ConfigOption<?>> BY_NAME =
            ALL.stream().collect(Collectors.toUnmodifiableMap(JobConfig::name, o -> o));

    // ---- the values, read and checked once

    private final String bootstrapServers;
    private final String mediaTopic;
    private final String requestsTopic;
    private final String resultsTopic;
    private final String foldersTopic;
    private final String deadLetterTopic;
    private final boolean createTopics;
    private final String groupId;
    private final StartingOffsets startingOffsets;
    private final String transactionalIdPrefix;
    private final Duration transactionTimeout;
    private final String kafkaPropertiesFile;
    private final Duration checkpointInterval;
    private final DeliveryGuarantee deliveryGuarantee;
    private final TransactionNaming transactionNaming;
    private final Duration bufferTimeout;
    private final String stateBackend;
    private final Duration changelogMaterialization;
    private final String checkpointDir;
    private final int parallelism;
    private final String modelsDir;
    private final List<String> mediaRoots;
    private final long mediaMaxBytes;
    private final float detectionScore;
    private final int ortThreads;
    private final EmbeddingPrecision embeddingPrecision;
    private final double defaultThreshold;
    private final Duration mediaWait;
    private final Duration embeddingCacheTtl;
    private final int embeddingCacheSize;
    private final Duration folderTtl;
    private final Duration analysisTimeout;
    private final InputLimits inputLimits;
    private final int maxRecordBytes;
    private final boolean nonPersistent;
    private final List<String> httpAllowHosts;
    private final boolean httpAllowPrivate;
    private final Duration httpConnectTimeout;
    private final Duration httpTimeout;
    private final int httpMaxRedirects;
    private final int fetchCapacity;
    private final long maxPixels;
    private final double videoMaxSeconds;
    private final long videoMaxFramePixels;
    private final int frames;
    private final int bestFrames;
    private final int zipMaxEntries;
    private final long zipMaxEntryBytes;
    private final long zipMaxTotalBytes;
    private final int zipMaxRatio;
    private final FacePolicy facePolicy;
    private final int minFaceSide;
    private final double minEyeDistance;
    private final double minSharpness;
    private final double minFaceScore;
    private final String webhookSecret;
    private final List<String> webhookAllowHosts;
    private final boolean webhookAllowHttp;
    private final boolean webhookAllowPrivate;
    private final Duration webhookDeadline;
    private final Duration webhookInitialBackoff;
    private final Duration webhookMaxBackoff;
    private final int webhookMaxInFlight;
    private final int webhookMaxPending;
    private final Duration webhookConnectTimeout;
    private final Duration webhookTimeout;

    /** Reads every option of {@code conf} (its default when unset) and checks each, then the rules between them. */
    private JobConfig(ReadableConfig conf, Map<String, String> env) {
        for (String key : conf.toMap().keySet()) {
            if (key.startsWith(KEY_PREFIX) && !BY_NAME.containsKey(key.substring(KEY_PREFIX.length()))) {
                throw new IllegalArgumentException("unknown option --" + key.substring(KEY_PREFIX.length()));
            }
        }
        bootstrapServers = conf.getOptional(BOOTSTRAP_SERVERS).orElse(null);
        mediaTopic = conf.get(MEDIA_TOPIC);
        requestsTopic = conf.get(REQUESTS_TOPIC);
        resultsTopic = conf.get(RESULTS_TOPIC);
        foldersTopic = conf.get(FOLDERS_TOPIC);
        deadLetterTopic = conf.get(DEAD_LETTER_TOPIC);
        createTopics = flag(conf, CREATE_TOPICS);
        groupId = conf.get(GROUP_ID);
        startingOffsets = choice(conf, STARTING_OFFSETS);
        transactionalIdPrefix = conf.get(TRANSACTIONAL_ID_PREFIX).trim();
        transactionTimeout = duration(conf, TRANSACTION_TIMEOUT);
        kafkaPropertiesFile = conf.get(KAFKA_PROPERTIES_FILE);
        checkpointInterval = duration(conf, CHECKPOINT_INTERVAL);
        deliveryGuarantee = choice(conf, DELIVERY_GUARANTEE);
        transactionNaming = choice(conf, TRANSACTION_NAMING);
        bufferTimeout = duration(conf, BUFFER_TIMEOUT);
        stateBackend = conf.get(STATE_BACKEND).trim().toLowerCase(Locale.ROOT);
        changelogMaterialization = duration(conf, CHANGELOG_MATERIALIZATION);
        checkpointDir = checkpointUri(conf.get(CHECKPOINT_DIR).trim());
        parallelism = atLeastOne(conf, PARALLELISM);
        modelsDir = Path.of(conf.get(MODELS)).toAbsolutePath().normalize().toString();
        mediaRoots = list(
                conf.get(MEDIA_ROOTS),
                r -> Path.of(r).toAbsolutePath().normalize().toString());
        mediaMaxBytes = bytes(conf, MEDIA_MAX_BYTES);
        detectionScore = get(conf, DETECTION_SCORE, "a number");
        ortThreads = atLeastOne(conf, ORT_THREADS);
        embeddingPrecision = choice(conf, EMBEDDING_PRECISION);
        defaultThreshold = get(conf, THRESHOLD, "a number");
        mediaWait = positive(conf, MEDIA_WAIT);
        embeddingCacheTtl = duration(conf, EMBEDDING_CACHE_TTL); // 0 turns the cache off
        embeddingCacheSize = integer(conf, EMBEDDING_CACHE_SIZE);
        folderTtl = positive(conf, FOLDER_TTL);
        analysisTimeout = positive(conf, ANALYSIS_TIMEOUT);
        inputLimits = inputLimits(conf);
        maxRecordBytes = integer(conf, MAX_RECORD_BYTES);
        nonPersistent = flag(conf, NON_PERSISTENT);
        httpAllowHosts = list(conf.get(HTTP_ALLOW_HOSTS), h -> h);
        httpAllowPrivate = flag(conf, HTTP_ALLOW_PRIVATE);
        httpConnectTimeout = duration(conf, HTTP_CONNECT_TIMEOUT);
        httpTimeout = positive(conf, HTTP_TIMEOUT);
        httpMaxRedirects = integer(conf, HTTP_MAX_REDIRECTS);
        fetchCapacity = atLeastOne(conf, FETCH_CAPACITY);
        maxPixels = get(conf, MAX_PIXELS, "an integer");
        videoMaxSeconds = get(conf, VIDEO_MAX_SECONDS, "a number");
        videoMaxFramePixels = get(conf, VIDEO_MAX_FRAME_PIXELS, "an integer");
        frames = atLeastOne(conf, FRAMES);
        bestFrames = atLeastOne(conf, BEST_FRAMES);
        zipMaxEntries = integer(conf, ZIP_MAX_ENTRIES);
        zipMaxEntryBytes = bytes(conf, ZIP_MAX_ENTRY_BYTES);
        zipMaxTotalBytes = bytes(conf, ZIP_MAX_TOTAL_BYTES);
        zipMaxRatio = integer(conf, ZIP_MAX_RATIO);
        facePolicy = choice(conf, FACE_POLICY);
        minFaceSide = integer(conf, MIN_FACE_SIDE);
        minEyeDistance = get(conf, MIN_EYE_DISTANCE, "a number");
        minSharpness = get(conf, MIN_SHARPNESS, "a number");
        minFaceScore = get(conf, MIN_FACE_SCORE, "a number");
        webhookSecret = webhookSecret(conf.get(WEBHOOK_SECRET), conf.get(WEBHOOK_SECRET_FILE), env);
        webhookAllowHosts = list(conf.get(WEBHOOK_ALLOW_HOSTS), h -> h);
        webhookAllowHttp = flag(conf, WEBHOOK_ALLOW_HTTP);
        webhookAllowPrivate = flag(conf, WEBHOOK_ALLOW_PRIVATE);
        webhookDeadline = positive(conf, WEBHOOK_DEADLINE);
        webhookInitialBackoff = positive(conf, WEBHOOK_INITIAL_BACKOFF);
        webhookMaxBackoff = positive(conf, WEBHOOK_MAX_BACKOFF);
        webhookMaxInFlight = atLeastOne(conf, WEBHOOK_MAX_IN_FLIGHT);
        webhookMaxPending = atLeastOne(conf, WEBHOOK_MAX_PENDING);
        webhookConnectTimeout = positive(conf, WEBHOOK_CONNECT_TIMEOUT);
        webhookTimeout = positive(conf, WEBHOOK_TIMEOUT);
        checkRules();
        kafkaProperties(); // a missing or unreadable file fails at start-up, naming its option
    }

    /** Each option's own range, then the rules between options. */
    private void checkRules() {
        if (!(defaultThreshold >= 0 && defaultThreshold <= 1)) {
            throw new IllegalArgumentException("--threshold must be in [0,1]");
        }
        if (!(detectionScore > 0 && detectionScore < 1)) {
            throw new IllegalArgumentException("--detection-score must be in (0,1)");
        }
        if (mediaMaxBytes < 1 || maxPixels < 1) {
            throw new IllegalArgumentException("--media-max-bytes and --max-pixels must be positive");
        }
        if (embeddingCacheSize < 0) {
            throw new IllegalArgumentException("--embedding-cache-size must be >= 0");
        }
        if (bufferTimeout.isNegative()) {
            throw new IllegalArgumentException("--buffer-timeout must be >= 0");
        }
        if (checkpointInterval.isZero()) {
            throw new IllegalArgumentException("--checkpoint-interval must be > 0");
        }
        if (exactlyOnce() && transactionTimeout.compareTo(checkpointInterval) <= 0) {
            throw new IllegalArgumentException("--transaction-timeout must exceed --checkpoint-interval (> 0)");
        }
        if (changelogMaterialization.isNegative()) {
            throw new IllegalArgumentException("--changelog-materialization must be >= 0 (0: no changelog)");
        }
        if (!List.of("", "hashmap", "rocksdb").contains(stateBackend)) {
            throw new IllegalArgumentException("--state-backend must be hashmap or rocksdb");
        }
        if (maxRecordBytes < 65536) {
            throw new IllegalArgumentException("--max-record-bytes must be at least 65536");
        }
        if (inputLimits.maxDeadLetterPayloadBytes() > maxRecordBytes / 8) {
            // A payload is JSON-escaped in the dead letter, up to 6 bytes per byte for control characters.
            throw new IllegalArgumentException(
                    "--dead-letter-max-payload-bytes must be at most --max-record-bytes / 8");
        }
        if (webhookMaxBackoff.compareTo(webhookInitialBackoff) < 0) {
            throw new IllegalArgumentException("--webhook-max-backoff must be >= --webhook-initial-backoff");
        }
        if (webhookTimeout.toMillis() > Integer.MAX_VALUE || webhookConnectTimeout.toMillis() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("--webhook-timeout and --webhook-connect-timeout are too large");
        }
    }

    /** Parses {@code --name value} pairs (names without dashes) over the defaults; unknown names and bad values fail. */
    public static JobConfig fromOptions(Map<String, String> given) {
        return fromOptions(given, System.getenv());
    }

    /** As {@link #fromOptions(Map)}, with the webhook secret looked up in {@code env} as a last resort. */
    public static JobConfig fromOptions(Map<String, String> given, Map<String, String> env) {
        return fromOptions(given, new Configuration(), env);
    }

    /**
     * As {@link #fromOptions(Map, Map)}, over the {@code biometry.} keys of {@code cluster} (e.g. the cluster's
     * config.yaml as {@code env.getConfiguration()} gives it): an option given on the command line wins.
     */
    public static JobConfig fromOptions(Map<String, String> given, ReadableConfig cluster, Map<String, String> env) {
        Configuration merged = Configuration.fromMap(cluster.toMap());
        for (Map.Entry<String, String> e : given.entrySet()) {
            if (!BY_NAME.containsKey(e.getKey())) {
                throw new IllegalArgumentException("unknown option --" + e.getKey());
            }
            String value = e.getValue();
            if (value == null) {
                continue; // unset: the default
            }
            // Surrounding blanks are dropped from every value but the secret (whose every byte is the key).
            merged.setString(KEY_PREFIX + e.getKey(), e.getKey().equals("webhook-secret") ? value : value.trim());
        }
        return new JobConfig(merged, env);
    }

    /**
     * The options under their {@code biometry.} keys in a Flink configuration (a cluster's {@code config.yaml}, or
     * {@code env.getConfiguration()}), the webhook secret from {@link #WEBHOOK_SECRET_ENV} when no option gives it.
     * Other keys are ignored; an unknown {@code biometry.} key fails.
     */
    public static JobConfig fromConfiguration(ReadableConfig conf) {
        return fromConfiguration(conf, System.getenv());
    }

    /** As {@link #fromConfiguration(ReadableConfig)}, with the webhook secret looked up in {@code env}. */
    public static JobConfig fromConfiguration(ReadableConfig conf, Map<String, String> env) {
        return new JobConfig(conf, env);
    }

    /**
     * This configuration as a Flink configuration under the {@code biometry.} keys (the secret resolved, paths
     * absolute): {@link #fromConfiguration} of it gives an equal {@code JobConfig}.
     */
    public Configuration toConfiguration() {
        Configuration c = new Configuration();
        if (bootstrapServers != null) {
            c.set(BOOTSTRAP_SERVERS, bootstrapServers);
        }
        c.set(MEDIA_TOPIC, mediaTopic);
        c.set(REQUESTS_TOPIC, requestsTopic);
        c.set(RESULTS_TOPIC, resultsTopic);
        c.set(FOLDERS_TOPIC, foldersTopic);
        c.set(DEAD_LETTER_TOPIC, deadLetterTopic);
        c.set(CREATE_TOPICS, createTopics);
        c.set(GROUP_ID, groupId);
        c.set(STARTING_OFFSETS, startingOffsets);
        c.set(TRANSACTIONAL_ID_PREFIX, transactionalIdPrefix);
        c.set(TRANSACTION_TIMEOUT, transactionTimeout);
        c.set(KAFKA_PROPERTIES_FILE, kafkaPropertiesFile);
        c.set(CHECKPOINT_INTERVAL, checkpointInterval);
        c.set(DELIVERY_GUARANTEE, deliveryGuarantee);
        c.set(TRANSACTION_NAMING, transactionNaming);
        c.set(BUFFER_TIMEOUT, bufferTimeout);
        c.set(STATE_BACKEND, stateBackend);
        c.set(CHANGELOG_MATERIALIZATION, changelogMaterialization);
        c.set(CHECKPOINT_DIR, checkpointDir);
        c.set(PARALLELISM, parallelism);
        c.set(MODELS, modelsDir);
        c.set(MEDIA_ROOTS, String.join(",", mediaRoots));
        c.set(MEDIA_MAX_BYTES, new MemorySize(mediaMaxBytes));
        c.set(DETECTION_SCORE, detectionScore);
        c.set(ORT_THREADS, ortThreads);
        c.set(EMBEDDING_PRECISION, embeddingPrecision);
        c.set(THRESHOLD, defaultThreshold);
        c.set(MEDIA_WAIT, mediaWait);
        c.set(EMBEDDING_CACHE_TTL, embeddingCacheTtl);
        c.set(EMBEDDING_CACHE_SIZE, embeddingCacheSize);
        c.set(FOLDER_TTL, folderTtl);
        c.set(ANALYSIS_TIMEOUT, analysisTimeout);
        c.set(MAX_META_DATA_BYTES, inputLimits.maxMetaDataBytes());
        c.set(MAX_ORIGINAL_NAME_CHARS, inputLimits.maxOriginalNameChars());
        c.set(MAX_MEDIA_PER_ANALYSIS, inputLimits.maxMediaPerAnalysis());
        c.set(MAX_MEDIA_PER_FOLDER, inputLimits.maxMediaPerFolder());
        c.set(DEAD_LETTER_MAX_PAYLOAD_BYTES, inputLimits.maxDeadLetterPayloadBytes());
        c.set(MAX_RECORD_BYTES, maxRecordBytes);
        c.set(NON_PERSISTENT, nonPersistent);
        c.set(HTTP_ALLOW_HOSTS, String.join(",", httpAllowHosts));
        c.set(HTTP_ALLOW_PRIVATE, httpAllowPrivate);
        c.set(HTTP_CONNECT_TIMEOUT, httpConnectTimeout);
        c.set(HTTP_TIMEOUT, httpTimeout);
        c.set(HTTP_MAX_REDIRECTS, httpMaxRedirects);
        c.set(FETCH_CAPACITY, fetchCapacity);
        c.set(MAX_PIXELS, maxPixels);
        c.set(VIDEO_MAX_SECONDS, videoMaxSeconds);
        c.set(VIDEO_MAX_FRAME_PIXELS, videoMaxFramePixels);
        c.set(FRAMES, frames);
        c.set(BEST_FRAMES, bestFrames);
        c.set(ZIP_MAX_ENTRIES, zipMaxEntries);
        c.set(ZIP_MAX_ENTRY_BYTES, new MemorySize(zipMaxEntryBytes));
        c.set(ZIP_MAX_TOTAL_BYTES, new MemorySize(zipMaxTotalBytes));
        c.set(ZIP_MAX_RATIO, zipMaxRatio);
        c.set(FACE_POLICY, facePolicy);
        c.set(MIN_FACE_SIDE, minFaceSide);
        c.set(MIN_EYE_DISTANCE, minEyeDistance);
        c.set(MIN_SHARPNESS, minSharpness);
        c.set(MIN_FACE_SCORE, minFaceScore);
        c.set(WEBHOOK_SECRET, webhookSecret);
        c.set(WEBHOOK_ALLOW_HOSTS, String.join(",", webhookAllowHosts));
        c.set(WEBHOOK_ALLOW_HTTP, webhookAllowHttp);
        c.set(WEBHOOK_ALLOW_PRIVATE, webhookAllowPrivate);
        c.set(WEBHOOK_DEADLINE, webhookDeadline);
        c.set(WEBHOOK_INITIAL_BACKOFF, webhookInitialBackoff);
        c.set(WEBHOOK_MAX_BACKOFF, webhookMaxBackoff);
        c.set(WEBHOOK_MAX_IN_FLIGHT, webhookMaxInFlight);
        c.set(WEBHOOK_MAX_PENDING, webhookMaxPending);
        c.set(WEBHOOK_CONNECT_TIMEOUT, webhookConnectTimeout);
        c.set(WEBHOOK_TIMEOUT, webhookTimeout);
        return c;
    }

    public JobConfig withBootstrapServers(String servers) {
        Configuration c = toConfiguration();
        c.set(BOOTSTRAP_SERVERS, servers);
        return new JobConfig(c, Map.of());
    }

    /** The secret from {@code --webhook-secret}, else the file of {@code --webhook-secret-file}, else {@code env}. */
    private static String webhookSecret(String secret, String file, Map<String, String> env) {
        if (!file.isEmpty()) {
            if (!secret.isEmpty()) {
                throw new IllegalArgumentException("--webhook-secret and --webhook-secret-file: give one of them");
            }
            try {
                String text = Files.readString(Path.of(file), StandardCharsets.UTF_8);
                text = text.endsWith("\r\n")
                        ? text.substring(0, text.length() - 2)
                        : text.endsWith("\n") ? text.substring(0, text.length() - 1) : text;
                if (text.isEmpty()) {
                    throw new IllegalArgumentException("--webhook-secret-file: " + file + " is empty");
                }
                return text;
            } catch (IOException | InvalidPathException e) {
                throw new IllegalArgumentException(
                        "--webhook-secret-file: cannot read " + file + ": " + e.getMessage());
            }
        }
        return secret.isEmpty() ? env.getOrDefault(WEBHOOK_SECRET_ENV, "") : secret;
    }

    private static InputLimits inputLimits(ReadableConfig conf) {
        int metaData = integer(conf, MAX_META_DATA_BYTES);
        int originalName = integer(conf, MAX_ORIGINAL_NAME_CHARS);
        int perAnalysis = integer(conf, MAX_MEDIA_PER_ANALYSIS);
        int perFolder = integer(conf, MAX_MEDIA_PER_FOLDER);
        int payload = integer(conf, DEAD_LETTER_MAX_PAYLOAD_BYTES);
        try {
            return new InputLimits(metaData, originalName, perAnalysis, perFolder, payload);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--max-meta-data-bytes must be >= 2, --max-original-name-chars >= 1, "
                    + "--max-media-per-analysis and --max-media-per-folder >= 2, --dead-letter-max-payload-bytes >= 0");
        }
    }

    /** A URI as given; a plain path becomes the {@code file:} URI of its absolute form. */
    private static String checkpointUri(String dir) {
        if (dir.isEmpty() || dir.matches("^[a-zA-Z][a-zA-Z0-9+.-]+:.*")) {
            return dir;
        }
        try {
            return Path.of(dir).toAbsolutePath().normalize().toUri().toString();
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException("--checkpoint-dir: not a URI or path: '" + dir + "'");
        }
    }

    // ---- typed accessors

    public String bootstrapServers() {
        return bootstrapServers;
    }

    public String mediaTopic() {
        return mediaTopic;
    }

    public String requestsTopic() {
        return requestsTopic;
    }

    public String resultsTopic() {
        return resultsTopic;
    }

    public String foldersTopic() {
        return foldersTopic;
    }

    public String deadLetterTopic() {
        return deadLetterTopic;
    }

    public String groupId() {
        return groupId;
    }

    /** {@code earliest}, {@code latest} or {@code committed-or-earliest}. */
    public String startingOffsets() {
        return startingOffsets.toString();
    }

    /** The option, else {@code <group-id>.<results-topic>}: stable for one job, distinct between group ids. */
    public String transactionalIdPrefix() {
        return transactionalIdPrefix.isEmpty() ? groupId + "." + resultsTopic : transactionalIdPrefix;
    }

    public Duration transactionTimeout() {
        return transactionTimeout;
    }

    public Duration checkpointInterval() {
        return checkpointInterval;
    }

    public DeliveryGuarantee deliveryGuarantee() {
        return deliveryGuarantee;
    }

    public TransactionNaming transactionNaming() {
        return transactionNaming;
    }

    /** Whether the Kafka sinks write in transactions committed with the checkpoints. */
    public boolean exactlyOnce() {
        return deliveryGuarantee == DeliveryGuarantee.EXACTLY_ONCE;
    }

    /** The network buffer timeout of every stage; zero sends each record at once. */
    public Duration bufferTimeout() {
        return bufferTimeout;
    }

    /**
     * The Kafka client settings of {@code --kafka-properties-file} (empty without it), read from the file on each
     * call: the job reads them where it builds its Kafka clients, and only the file name travels with the config.
     */
    public Properties kafkaProperties() {
        Properties props = new Properties();
        if (!kafkaPropertiesFile.isEmpty()) {
            try (Reader in = Files.newBufferedReader(Path.of(kafkaPropertiesFile), StandardCharsets.UTF_8)) {
                props.load(in);
            } catch (IOException | IllegalArgumentException e) {
                throw new IllegalArgumentException(
                        "--kafka-properties-file: cannot read " + kafkaPropertiesFile + ": " + e.getMessage());
            }
        }
        return props;
    }

    public int parallelism() {
        return parallelism;
    }

    /** {@code hashmap}, {@code rocksdb}, or empty (the mode's default, see {@code BiometryJob.configure}). */
    public String stateBackend() {
        return stateBackend;
    }

    /** How often the changelog state backend materialises; zero: no changelog (the default). */
    public Duration changelogMaterialization() {
        return changelogMaterialization;
    }

    /** The checkpoint storage URI, or empty (the mode's default, see {@code BiometryJob.configure}). */
    public String checkpointDir() {
        return checkpointDir;
    }

    public String modelsDir() {
        return modelsDir;
    }

    public List<String> mediaRoots() {
        return mediaRoots;
    }

    public long mediaMaxBytes() {
        return mediaMaxBytes;
    }

    public float detectionScore() {
        return detectionScore;
    }

    public int ortThreads() {
        return ortThreads;
    }

    public EmbeddingPrecision embeddingPrecision() {
        return embeddingPrecision;
    }

    public double defaultThreshold() {
        return defaultThreshold;
    }

    public Duration mediaWait() {
        return mediaWait;
    }

    public Duration embeddingCacheTtl() {
        return embeddingCacheTtl;
    }

    /** Media each slot's embedding cache holds at most (0 turns the cache off). */
    public int embeddingCacheSize() {
        return embeddingCacheSize;
    }

    public Duration folderTtl() {
        return folderTtl;
    }

    public Duration analysisTimeout() {
        return analysisTimeout;
    }

    public boolean nonPersistent() {
        return nonPersistent;
    }

    public InputLimits inputLimits() {
        return inputLimits;
    }

    public int maxRecordBytes() {
        return maxRecordBytes;
    }

    public boolean createTopics() {
        return createTopics;
    }

    public List<String> httpAllowHosts() {
        return httpAllowHosts;
    }

    public boolean httpAllowPrivate() {
        return httpAllowPrivate;
    }

    public Duration httpConnectTimeout() {
        return httpConnectTimeout;
    }

    public Duration httpTimeout() {
        return httpTimeout;
    }

    public int httpMaxRedirects() {
        return httpMaxRedirects;
    }

    public int fetchCapacity() {
        return fetchCapacity;
    }

    public long maxPixels() {
        return maxPixels;
    }

    public Duration videoMaxDuration() {
        return Duration.ofMillis(Math.round(videoMaxSeconds * 1000));
    }

    public long videoMaxFramePixels() {
        return videoMaxFramePixels;
    }

    public int frames() {
        return frames;
    }

    public int bestFrames() {
        return bestFrames;
    }

    public int zipMaxEntries() {
        return zipMaxEntries;
    }

    public long zipMaxEntryBytes() {
        return zipMaxEntryBytes;
    }

    public long zipMaxTotalBytes() {
        return zipMaxTotalBytes;
    }

    public int zipMaxRatio() {
        return zipMaxRatio;
    }

    /** {@code largest} or {@code reject}. */
    public String facePolicy() {
        return facePolicy.toString();
    }

    public int minFaceSide() {
        return minFaceSide;
    }

    public double minEyeDistance() {
        return minEyeDistance;
    }

    public double minSharpness() {
        return minSharpness;
    }

    public double minFaceScore() {
        return minFaceScore;
    }

    public String webhookSecret() {
        return webhookSecret;
    }

    public List<String> webhookAllowHosts() {
        return webhookAllowHosts;
    }

    public boolean webhookAllowHttp() {
        return webhookAllowHttp;
    }

    public boolean webhookAllowPrivate() {
        return webhookAllowPrivate;
    }

    public Duration webhookDeadline() {
        return webhookDeadline;
    }

    public Duration webhookInitialBackoff() {
        return webhookInitialBackoff;
    }

    public Duration webhookMaxBackoff() {
        return webhookMaxBackoff;
    }

    public int webhookMaxInFlight() {
        return webhookMaxInFlight;
    }

    public int webhookMaxPending() {
        return webhookMaxPending;
    }

    public Duration webhookConnectTimeout() {
        return webhookConnectTimeout;
    }

    public Duration webhookTimeout() {
        return webhookTimeout;
    }

    // ---- reading one option, failing with its --name

    /** The option's value through Flink's parsing; a value it cannot parse fails naming {@code --option}. */
    private static <T> T get(ReadableConfig conf, ConfigOption<T> option, String expected) {
        try {
            return conf.get(option);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "--" + name(option) + ": not " + expected + ": '" + text(conf, option) + "'");
        }
    }

    private static int integer(ReadableConfig conf, ConfigOption<Integer> option) {
        return get(conf, option, "an integer");
    }

    private static int atLeastOne(ReadableConfig conf, ConfigOption<Integer> option) {
        int value = integer(conf, option);
        if (value < 1) {
            throw new IllegalArgumentException("--" + name(option) + " must be >= 1");
        }
        return value;
    }

    private static boolean flag(ReadableConfig conf, ConfigOption<Boolean> option) {
        return get(conf, option, "true or false");
    }

    /** Sizes in bytes: a plain number, or with Flink's units ({@code 10mb}, {@code 512kb}). */
    private static long bytes(ReadableConfig conf, ConfigOption<MemorySize> option) {
        return get(conf, option, "a size in bytes (e.g. 10485760, 10mb)").getBytes();
    }

    private static <E extends Enum<E>> E choice(ReadableConfig conf, ConfigOption<E> option) {
        try {
            return conf.get(option);
        } catch (IllegalArgumentException e) {
            String choices = Arrays.stream(defaultOf(option).getDeclaringClass().getEnumConstants())
                    .map(v -> v.toString().toLowerCase(Locale.ROOT))
                    .collect(Collectors.joining(", "));
            throw new IllegalArgumentException(
                    "--" + name(option) + " must be one of " + choices + ", not '" + text(conf, option) + "'");
        }
    }

    /**
     * Durations as {@code 500ms}, {@code 30s}, {@code 5m}, {@code 24h}, {@code 7d} (Flink's parsing, which also
     * takes {@code 5 min}), or a plain number of seconds (Flink would read milliseconds).
     */
    private static Duration duration(ReadableConfig conf, ConfigOption<Duration> option) {
        String text = conf.getOptional(asText(option)).orElse("").trim();
        try {
            if (text.matches("\\d+")) {
                return Duration.ofSeconds(Long.parseLong(text));
            }
            return conf.get(option);
        } catch (IllegalArgumentException e) { // NumberFormatException included
            throw new IllegalArgumentException(
                    "--" + name(option) + ": not a duration: '" + text + "' (e.g. 500ms, 30s, 5m, 24h)");
        }
    }

    private static Duration positive(ReadableConfig conf, ConfigOption<Duration> option) {
        Duration d = duration(conf, option);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException("--" + name(option) + " must be > 0");
        }
        return d;
    }

    private static List<String> list(String text, Function<String, String> map) {
        return Arrays.stream(text.split(","))
                .filter(part -> !part.isBlank())
                .map(part -> map.apply(part.trim()))
                .toList();
    }

    /** The same key read as text, for messages and for the plain-seconds durations. */
    private static ConfigOption<String> asText(ConfigOption<?> option) {
        return ConfigOptions.key(option.key()).stringType().noDefaultValue();
    }

    private static String text(ReadableConfig conf, ConfigOption<?> option) {
        try {
            return conf.getOptional(asText(option)).orElse("");
        } catch (RuntimeException e) {
            return "?";
        }
    }

    // ---- the option table

    /** The option's name on the command line: its key without {@link #KEY_PREFIX}. */
    private static String name(ConfigOption<?> option) {
        return option.key().substring(KEY_PREFIX.length());
    }

    private static <T> T defaultOf(ConfigOption<T> option) {
        return option.defaultValue();
    }

    private static String description(ConfigOption<?> option) {
        return option.description().getBlocks().stream()
                .map(b -> ((TextElement) b).getFormat())
                .collect(Collectors.joining());
    }

    /** The default as the option table writes it (as one would type it): null when there is none. */
    private static String defaultText(ConfigOption<?> option) {
        Object value = option.hasDefaultValue() ? option.defaultValue() : null;
        if (value == null) {
            return null;
        } else if (value instanceof Duration d) {
            return durationText(d);
        } else if (value instanceof MemorySize size) {
            return String.valueOf(size.getBytes());
        } else if (value instanceof EmbeddingPrecision p) {
            return p.optionValue();
        } else if ((value instanceof Double || value instanceof Float)
                && ((Number) value).doubleValue() == Math.rint(((Number) value).doubleValue())) {
            return String.valueOf(((Number) value).longValue());
        }
        return value.toString();
    }

    /** Up to 60 s in seconds, up to 60 min in minutes, up to 24 h in hours, else days (each when exact). */
    static String durationText(Duration d) {
        long ms = d.toMillis();
        if (ms % 1000 != 0) {
            return ms + "ms";
        }
        long s = ms / 1000;
        if (s <= 60 || s % 60 != 0) {
            return s + "s";
        }
        long m = s / 60;
        if (m <= 60 || m % 60 != 0) {
            return m + "m";
        }
        long h = m / 60;
        return h <= 24 || h % 24 != 0 ? h + "h" : h / 24 + "d";
    }

    /** The options as a Markdown table, for docs/operations.md and {@code --help}. */
    public static String markdownTable() {
        StringBuilder sb = new StringBuilder("| option | default | meaning |\n|---|---|---|\n");
        for (Option o : OPTIONS) {
            sb.append("| `--")
                    .append(o.name())
                    .append("` | ")
                    .append(
                            o.defaultValue() == null
                                    ? "(required)"
                                    : o.defaultValue().isEmpty() ? "(empty)" : "`" + o.defaultValue() + "`")
                    .append(" | ")
                    .append(o.description())
                    .append(" |\n");
        }
        return sb.toString();
    }

    // ---- value semantics

    @Override
    public boolean equals(Object other) {
        return other instanceof JobConfig c
                && toConfiguration().toMap().equals(c.toConfiguration().toMap());
    }

    @Override
    public int hashCode() {
        return Objects.hash(toConfiguration().toMap());
    }

    /** The values by option name in the order of {@link #OPTIONS}, with the webhook secret masked. */
    @Override
    public String toString() {
        Map<String, String> values = toConfiguration().toMap();
        Map<String, String> shown = new LinkedHashMap<>();
        for (Option o : OPTIONS) {
            if (values.containsKey(KEY_PREFIX + o.name())) {
                shown.put(o.name(), values.get(KEY_PREFIX + o.name()));
            }
        }
        shown.computeIfPresent("webhook-secret", (k, v) -> v.isEmpty() ? v : "******");
        return "JobConfig" + shown;
    }
}
