package dev.biometry.config;

import dev.biometry.face.EmbeddingPrecision;
import java.io.IOException;
import java.io.Reader;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.function.Function;

/**
 * Every setting of the biometry job, with its default and documentation. Each option is given on the command
 * line as {@code --name value}; {@link #OPTIONS} is the single list the CLI, the option table of docs/operations.md and validation use.
 * Values are kept as given and read through typed accessors; {@link #fromOptions} checks them all once.
 */
public final class JobConfig implements Serializable {

    private static final long serialVersionUID = 1L;

    private final Map<String, String> values;

    private JobConfig(Map<String, String> values) {
        this.values = Map.copyOf(values);
    }

    /** One documented option: its name, default (null = required or unset) and meaning. */
    public record Option(String name, String defaultValue, String description) {}

    public static final List<Option> OPTIONS = List.of(
            new Option("bootstrap-servers", null, "Kafka bootstrap servers (host:port,...); required for `run`"),
            new Option("media-topic", "biometry.media", "input: media references, key folder_id"),
            new Option("requests-topic", "biometry.requests", "input: analysis requests, key folder_id"),
            new Option("results-topic", "biometry.results", "output: Oz analysis objects, key analyse_id"),
            new Option(
                    "folders-topic", "biometry.folders", "output: folder objects with status roll-up, key folder_id"),
            new Option(
                    "dead-letter-topic",
                    "biometry.dead-letter",
                    "output: input records that failed parsing or validation, and webhook deliveries that failed for good"),
            new Option(
                    "create-topics",
                    "false",
                    "at start-up, create the five topics that are missing (--parallelism partitions, the broker's default "
                            + "replication factor); without it a missing topic fails the submission, naming the topics"),
            new Option("group-id", "biometry", "Kafka consumer group id (offsets are committed on checkpoints)"),
            new Option(
                    "starting-offsets",
                    "committed-or-earliest",
                    "where to start without a checkpoint: earliest, latest or committed-or-earliest"),
            new Option(
                    "transactional-id-prefix",
                    "",
                    "prefix of the exactly-once sinks' transactional ids (each sink appends its name); empty: "
                            + "`<group-id>.<results-topic>`, the same on every restart of a job and different between "
                            + "jobs with different group ids. Two jobs sharing a prefix abort each other's transactions"),
            new Option(
                    "transaction-timeout",
                    "10m",
                    "Kafka transaction.timeout.ms of the exactly-once sinks: 5 min below the brokers' default "
                            + "transaction.max.timeout.ms (15m); must be at least 3 x (--checkpoint-interval + the "
                            + "checkpoint timeout), checked at start (see Checkpoints and restarts)"),
            new Option(
                    "kafka-properties-file",
                    "",
                    "Java properties file of Kafka client settings for every consumer, producer and admin client of the job (TLS, SASL: `security.protocol`, `ssl.*`, `sasl.*`), read at start-up so that no secret is on the command line; the job's own settings (bootstrap servers, group id, isolation level, transactions, serializers) take precedence"),
            new Option(
                    "checkpoint-interval",
                    "10s",
                    "checkpoint interval; results become visible to read_committed consumers on each checkpoint"),
            new Option(
                    "state-backend",
                    "",
                    "`hashmap` (state on the heap) or `rocksdb` (on local disk, incremental checkpoints); empty: "
                            + "`rocksdb` for `run` unless the cluster's config sets state.backend.type, `hashmap` for "
                            + "`local` and `bench`"),
            new Option(
                    "checkpoint-dir",
                    "",
                    "URI of the durable checkpoint storage (`file:///...`, `s3://...`; a plain path is a local folder); empty: for `run` the cluster's "
                            + "execution.checkpointing.dir (the job refuses to start without one), for `local` and "
                            + "`bench` a new temporary directory per run, deleted on exit"),
            new Option(
                    "parallelism",
                    String.valueOf(Runtime.getRuntime().availableProcessors()),
                    "job parallelism (default: cores); each slot runs one face engine"),
            new Option("models", "models", "folder with fr_detect.onnx, fr_landmark.onnx, fr_feature.onnx"),
            new Option(
                    "media-roots",
                    "",
                    "comma-separated folders that file:// media URIs may point into; empty refuses every file URI"),
            new Option(
                    "media-max-bytes",
                    String.valueOf(10L * 1024 * 1024),
                    "largest media file read, in bytes (Oz default 10 MiB)"),
            new Option("detection-score", "0.65", "minimum detector score for a face"),
            new Option("ort-threads", "1", "ONNX Runtime intra-op threads per session (one session set per slot)"),
            new Option(
                    "embedding-precision",
                    EmbeddingPrecision.DEFAULT.optionValue(),
                    "embedding model: `int8` (fr_feature.int8.onnx, made by models/fetch.sh) or `fp32` (fr_feature.onnx); "
                            + "each has its own calibration (see models/README.md)"),
            new Option("threshold", "0.85", "default confidence threshold for SUCCESS when a request gives none"),
            new Option(
                    "media-wait",
                    "60s",
                    "how long an analysis waits for media named in source_media that are not yet known (processing time)"),
            new Option(
                    "embedding-cache-ttl",
                    "24h",
                    "how long a media's embedding is kept so re-verification skips inference (0 = off)"),
            new Option(
                    "folder-ttl",
                    "24h",
                    "how long a folder's media references and status are kept after their last update"),
            new Option(
                    "analysis-timeout", "10m", "an analysis whose embeddings are not all back by then FAILS (error 0)"),
            new Option(
                    "max-meta-data-bytes",
                    "4096",
                    "largest `meta_data` object of a media or an analysis (compact JSON, UTF-8 bytes); larger: dead letter, error 4"),
            new Option("max-original-name-chars", "255", "longest media `original_name`; longer: dead letter, error 4"),
            new Option(
                    "max-media-per-analysis",
                    "100",
                    "most media one analysis compares (`source_media` entries: dead letter, error 4; eligible media of "
                            + "the folder when `source_media` is omitted: FAILED analysis, error 4)"),
            new Option(
                    "max-media-per-folder",
                    "1000",
                    "most media a folder holds: a further media is a dead letter (error 4), a request whose inline media "
                            + "would pass it FAILS its analyses (error 4); also the most media and analyses a folder record lists"),
            new Option(
                    "dead-letter-max-payload-bytes",
                    "65536",
                    "largest copy of the input record in a dead letter (UTF-8 bytes, or raw bytes before base64); a "
                            + "longer one is cut and flagged `payload_truncated`"),
            new Option(
                    "max-record-bytes",
                    "1000000",
                    "largest output record (UTF-8 bytes of its JSON): a larger analysis is replaced by a small FAILED "
                            + "record (error 4), a larger folder record by its roll-up without lists, a larger dead letter "
                            + "loses its payload (metric `oversizedRecords`); the sinks' `max.request.size` is this plus 16 KiB "
                            + "and must not exceed the broker's `message.max.bytes` (default 1048588)"),
            new Option(
                    "non-persistent",
                    "false",
                    "instant mode: no media reference, embedding or analysis state outlives its analysis' final result "
                            + "(embedding cache off, state cleared on completion, --folder-ttl as a backstop)"),
            new Option(
                    "http-allow-hosts",
                    "",
                    "comma-separated hosts that http(s) media may come from (`*.example.com` for subdomains); empty refuses all"),
            new Option(
                    "http-allow-private",
                    "false",
                    "allow http(s) media from loopback, link-local and private addresses (checked after DNS and on every redirect)"),
            new Option("http-connect-timeout", "5s", "connect timeout of a media download"),
            new Option("http-timeout", "20s", "total time allowed for one media download, redirects included"),
            new Option("http-max-redirects", "3", "redirects followed per media download"),
            new Option("fetch-capacity", "16", "media downloads in flight per slot (async I/O capacity)"),
            new Option(
                    "max-pixels",
                    "40000000",
                    "largest image accepted (width x height from its header, before decoding)"),
            new Option("video-max-seconds", "10", "longest video accepted, from its container metadata"),
            new Option(
                    "video-max-frame-pixels",
                    "2073600",
                    "largest video or shots-set frame accepted (width x height; 1920x1080 by default)"),
            new Option("frames", "10", "frames sampled evenly from a video or shots set"),
            new Option("best-frames", "3", "best frames (by best-shot score) whose embeddings form a video's template"),
            new Option("zip-max-entries", "200", "most entries in a shots-set ZIP"),
            new Option(
                    "zip-max-entry-bytes", String.valueOf(10L << 20), "largest uncompressed entry of a shots-set ZIP"),
            new Option(
                    "zip-max-total-bytes",
                    String.valueOf(50L << 20),
                    "largest total uncompressed size of a shots-set ZIP"),
            new Option(
                    "zip-max-ratio",
                    "100",
                    "largest compression ratio of a shots-set ZIP entry and of the whole "
                            + "archive, checked after 1 MiB inflated (zip-bomb guard)"),
            new Option(
                    "face-policy",
                    "largest",
                    "several faces in a media: `largest` uses the main face, `reject` refuses the media (error 4)"),
            new Option("min-face-side", "40", "quality gate: smallest face box side in pixels"),
            new Option("min-eye-distance", "16", "quality gate: smallest distance between the eye centres in pixels"),
            new Option("min-sharpness", "15", "quality gate: smallest Laplacian variance of the aligned inner face"),
            new Option("min-face-score", "0.8", "quality gate: smallest detector score of the chosen face"),
            new Option(
                    "webhook-secret",
                    "",
                    "HMAC-SHA256 key signing webhook deliveries (X-Biometry-Signature); empty sends them unsigned (a warning is logged). "
                            + "Command lines are visible to every local user: prefer `--webhook-secret-file` or the environment variable `"
                            + "BIOMETRY_WEBHOOK_SECRET` (used when neither option is given)"),
            new Option(
                    "webhook-secret-file",
                    "",
                    "file holding the webhook secret (UTF-8, one trailing newline ignored), read once at start-up; not with `--webhook-secret`"),
            new Option(
                    "webhook-allow-hosts",
                    "",
                    "comma-separated hosts that resolution_endpoint webhooks may go to (`*.example.com` for subdomains); empty refuses all"),
            new Option("webhook-allow-http", "false", "allow plain http:// webhook endpoints (https only by default)"),
            new Option(
                    "webhook-allow-private",
                    "false",
                    "allow webhooks to loopback, link-local and private addresses (checked after DNS)"),
            new Option(
                    "webhook-deadline",
                    "24h",
                    "how long a webhook delivery is retried before it goes to the dead-letter topic (error 11)"),
            new Option(
                    "webhook-initial-backoff",
                    "1s",
                    "delay before the first webhook retry; doubles per attempt, with jitter"),
            new Option("webhook-max-backoff", "10m", "largest delay between two webhook attempts"),
            new Option("webhook-max-in-flight", "32", "webhook requests in flight per slot"),
            new Option(
                    "webhook-max-pending",
                    "10000",
                    "webhook deliveries waiting or retrying per slot (each keeps its result JSON); when full, a new "
                            + "delivery goes to the dead-letter topic at once (error 11, \"webhook queue full\")"),
            new Option("webhook-connect-timeout", "5s", "connect timeout of a webhook attempt"),
            new Option("webhook-timeout", "10s", "total time allowed for one webhook attempt"));

    /** Parses {@code --name value} pairs (names without dashes) over the defaults; unknown names and bad values fail. */
    public static JobConfig fromOptions(Map<String, String> given) {
        return fromOptions(given, System.getenv());
    }

    /** Environment variable holding the webhook secret when neither webhook secret option is given. */
    public static final String WEBHOOK_SECRET_ENV = "BIOMETRY_WEBHOOK_SECRET";

    /** As {@link #fromOptions(Map)}, with the webhook secret looked up in {@code env} as a last resort. */
    public static JobConfig fromOptions(Map<String, String> given, Map<String, String> env) {
        Map<String, String> values = new LinkedHashMap<>();
        for (Option o : OPTIONS) {
            if (o.defaultValue() != null) {
                values.put(o.name(), o.defaultValue());
            }
        }
        for (Map.Entry<String, String> e : given.entrySet()) {
            if (OPTIONS.stream().noneMatch(o -> o.name().equals(e.getKey()))) {
                throw new IllegalArgumentException("unknown option --" + e.getKey());
            }
            values.put(e.getKey(), e.getValue());
        }
        values.put("webhook-secret", webhookSecret(values, env));
        values.put("webhook-secret-file", "");
        JobConfig c = new JobConfig(values);
        c.validate();
        return c;
    }

    /** The secret from {@code --webhook-secret}, else the file of {@code --webhook-secret-file}, else {@code env}. */
    private static String webhookSecret(Map<String, String> values, Map<String, String> env) {
        String secret = values.get("webhook-secret");
        String file = values.get("webhook-secret-file");
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

    public JobConfig withBootstrapServers(String servers) {
        Map<String, String> copy = new LinkedHashMap<>(values);
        copy.put("bootstrap-servers", servers);
        return new JobConfig(copy);
    }

    // ---- typed accessors

    public String bootstrapServers() {
        return values.get("bootstrap-servers");
    }

    public String mediaTopic() {
        return values.get("media-topic");
    }

    public String requestsTopic() {
        return values.get("requests-topic");
    }

    public String resultsTopic() {
        return values.get("results-topic");
    }

    public String foldersTopic() {
        return values.get("folders-topic");
    }

    public String deadLetterTopic() {
        return values.get("dead-letter-topic");
    }

    public String groupId() {
        return values.get("group-id");
    }

    public String startingOffsets() {
        return values.get("starting-offsets");
    }
    /** The option, else {@code <group-id>.<results-topic>}: stable for one job, distinct between group ids. */
    public String transactionalIdPrefix() {
        String given = values.get("transactional-id-prefix").trim();
        return given.isEmpty() ? groupId() + "." + resultsTopic() : given;
    }

    public Duration transactionTimeout() {
        return duration("transaction-timeout");
    }

    public Duration checkpointInterval() {
        return duration("checkpoint-interval");
    }

    /**
     * The Kafka client settings of {@code --kafka-properties-file} (empty without it), read from the file on each
     * call: the job reads them where it builds its Kafka clients, and only the file name travels with the config.
     */
    public Properties kafkaProperties() {
        Properties props = new Properties();
        String file = values.get("kafka-properties-file");
        if (!file.isEmpty()) {
            try (Reader in = Files.newBufferedReader(Path.of(file), StandardCharsets.UTF_8)) {
                props.load(in);
            } catch (IOException | IllegalArgumentException e) {
                throw new IllegalArgumentException(
                        "--kafka-properties-file: cannot read " + file + ": " + e.getMessage());
            }
        }
        return props;
    }

    public int parallelism() {
        return integer("parallelism");
    }
    /** {@code hashmap}, {@code rocksdb}, or empty (the mode's default, see {@code BiometryJob.configure}). */
    public String stateBackend() {
        return values.get("state-backend").trim().toLowerCase(Locale.ROOT);
    }
    /** The checkpoint storage URI, or empty (the mode's default, see {@code BiometryJob.configure}). */
    public String checkpointDir() {
        String dir = values.get("checkpoint-dir").trim();
        if (dir.isEmpty() || dir.matches("^[a-zA-Z][a-zA-Z0-9+.-]+:.*")) {
            return dir;
        }
        try {
            return Path.of(dir).toAbsolutePath().normalize().toUri().toString(); // a plain path: a local folder
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException("--checkpoint-dir: not a URI or path: '" + dir + "'");
        }
    }

    public String modelsDir() {
        return Path.of(values.get("models")).toAbsolutePath().normalize().toString();
    }

    public List<String> mediaRoots() {
        return list("media-roots", r -> Path.of(r).toAbsolutePath().normalize().toString());
    }

    public long mediaMaxBytes() {
        return longValue("media-max-bytes");
    }

    public float detectionScore() {
        return (float) number("detection-score");
    }

    public int ortThreads() {
        return integer("ort-threads");
    }

    public EmbeddingPrecision embeddingPrecision() {
        return EmbeddingPrecision.parse(values.get("embedding-precision"));
    }

    public double defaultThreshold() {
        return number("threshold");
    }

    public Duration mediaWait() {
        return duration("media-wait");
    }

    public Duration embeddingCacheTtl() {
        return duration("embedding-cache-ttl");
    }

    public Duration folderTtl() {
        return duration("folder-ttl");
    }

    public Duration analysisTimeout() {
        return duration("analysis-timeout");
    }

    public boolean nonPersistent() {
        return bool("non-persistent");
    }

    public dev.biometry.api.InputLimits inputLimits() {
        try {
            return new dev.biometry.api.InputLimits(
                    integer("max-meta-data-bytes"),
                    integer("max-original-name-chars"),
                    integer("max-media-per-analysis"),
                    integer("max-media-per-folder"),
                    integer("dead-letter-max-payload-bytes"));
        } catch (IllegalArgumentException e) {
            if (e.getMessage().startsWith("--")) {
                throw e;
            }
            throw new IllegalArgumentException("--max-meta-data-bytes must be >= 2, --max-original-name-chars >= 1, "
                    + "--max-media-per-analysis and --max-media-per-folder >= 2, --dead-letter-max-payload-bytes >= 0");
        }
    }

    public int maxRecordBytes() {
        return integer("max-record-bytes");
    }

    public boolean createTopics() {
        return bool("create-topics");
    }

    public List<String> httpAllowHosts() {
        return list("http-allow-hosts", h -> h);
    }

    public boolean httpAllowPrivate() {
        return bool("http-allow-private");
    }

    public Duration httpConnectTimeout() {
        return duration("http-connect-timeout");
    }

    public Duration httpTimeout() {
        return duration("http-timeout");
    }

    public int httpMaxRedirects() {
        return integer("http-max-redirects");
    }

    public int fetchCapacity() {
        return integer("fetch-capacity");
    }

    public long maxPixels() {
        return longValue("max-pixels");
    }

    public Duration videoMaxDuration() {
        return Duration.ofMillis(Math.round(number("video-max-seconds") * 1000));
    }

    public long videoMaxFramePixels() {
        return longValue("video-max-frame-pixels");
    }

    public int frames() {
        return integer("frames");
    }

    public int bestFrames() {
        return integer("best-frames");
    }

    public int zipMaxEntries() {
        return integer("zip-max-entries");
    }

    public long zipMaxEntryBytes() {
        return longValue("zip-max-entry-bytes");
    }

    public long zipMaxTotalBytes() {
        return longValue("zip-max-total-bytes");
    }

    public int zipMaxRatio() {
        return integer("zip-max-ratio");
    }

    public String facePolicy() {
        return values.get("face-policy");
    }

    public int minFaceSide() {
        return integer("min-face-side");
    }

    public double minEyeDistance() {
        return number("min-eye-distance");
    }

    public double minSharpness() {
        return number("min-sharpness");
    }

    public double minFaceScore() {
        return number("min-face-score");
    }

    public String webhookSecret() {
        return values.get("webhook-secret");
    }

    public List<String> webhookAllowHosts() {
        return list("webhook-allow-hosts", h -> h);
    }

    public boolean webhookAllowHttp() {
        return bool("webhook-allow-http");
    }

    public boolean webhookAllowPrivate() {
        return bool("webhook-allow-private");
    }

    public Duration webhookDeadline() {
        return duration("webhook-deadline");
    }

    public Duration webhookInitialBackoff() {
        return duration("webhook-initial-backoff");
    }

    public Duration webhookMaxBackoff() {
        return duration("webhook-max-backoff");
    }

    public int webhookMaxInFlight() {
        return integer("webhook-max-in-flight");
    }

    public int webhookMaxPending() {
        return integer("webhook-max-pending");
    }

    public Duration webhookConnectTimeout() {
        return duration("webhook-connect-timeout");
    }

    public Duration webhookTimeout() {
        return duration("webhook-timeout");
    }

    private void validate() {
        // Every accessor parses its value: call them all once so a bad value fails at start-up, naming its option.
        for (java.lang.reflect.Method m : JobConfig.class.getDeclaredMethods()) {
            if (m.getParameterCount() == 0
                    && java.lang.reflect.Modifier.isPublic(m.getModifiers())
                    && !java.lang.reflect.Modifier.isStatic(m.getModifiers())
                    && !m.getName().equals("toString")
                    && !m.getName().equals("hashCode")) {
                try {
                    m.invoke(this);
                } catch (ReflectiveOperationException e) {
                    if (e.getCause() instanceof IllegalArgumentException iae) {
                        throw iae;
                    }
                    throw new IllegalStateException(e);
                }
            }
        }
        if (!List.of("earliest", "latest", "committed-or-earliest").contains(startingOffsets())) {
            throw new IllegalArgumentException("--starting-offsets must be earliest, latest or committed-or-earliest");
        }
        if (!List.of("largest", "reject").contains(facePolicy())) {
            throw new IllegalArgumentException("--face-policy must be largest or reject");
        }
        if (parallelism() < 1 || ortThreads() < 1 || fetchCapacity() < 1 || frames() < 1 || bestFrames() < 1) {
            throw new IllegalArgumentException(
                    "--parallelism, --ort-threads, --fetch-capacity, --frames and --best-frames must be >= 1");
        }
        if (!(defaultThreshold() >= 0 && defaultThreshold() <= 1)) {
            throw new IllegalArgumentException("--threshold must be in [0,1]");
        }
        if (!(detectionScore() > 0 && detectionScore() < 1)) {
            throw new IllegalArgumentException("--detection-score must be in (0,1)");
        }
        if (mediaMaxBytes() < 1 || maxPixels() < 1) {
            throw new IllegalArgumentException("--media-max-bytes and --max-pixels must be positive");
        }
        if (checkpointInterval().isZero() || transactionTimeout().compareTo(checkpointInterval()) <= 0) {
            throw new IllegalArgumentException("--transaction-timeout must exceed --checkpoint-interval (> 0)");
        }
        if (!List.of("", "hashmap", "rocksdb").contains(stateBackend())) {
            throw new IllegalArgumentException("--state-backend must be hashmap or rocksdb");
        }
        if (mediaWait().isZero()
                || folderTtl().isZero()
                || analysisTimeout().isZero()
                || httpTimeout().isZero()) {
            throw new IllegalArgumentException(
                    "--media-wait, --folder-ttl, --analysis-timeout and --http-timeout must be > 0");
        }
        if (maxRecordBytes() < 65536) {
            throw new IllegalArgumentException("--max-record-bytes must be at least 65536");
        }
        if (inputLimits().maxDeadLetterPayloadBytes() > maxRecordBytes() / 8) {
            // A payload is JSON-escaped in the dead letter, up to 6 bytes per byte for control characters.
            throw new IllegalArgumentException(
                    "--dead-letter-max-payload-bytes must be at most --max-record-bytes / 8");
        }
        validateWebhooks();
    }

    private void validateWebhooks() {
        if (webhookMaxInFlight() < 1 || webhookMaxPending() < 1) {
            throw new IllegalArgumentException("--webhook-max-in-flight and --webhook-max-pending must be >= 1");
        }
        for (String name : List.of(
                "webhook-deadline",
                "webhook-initial-backoff",
                "webhook-max-backoff",
                "webhook-connect-timeout",
                "webhook-timeout")) {
            Duration d = duration(name);
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("--" + name + " must be > 0");
            }
        }
        if (webhookMaxBackoff().compareTo(webhookInitialBackoff()) < 0) {
            throw new IllegalArgumentException("--webhook-max-backoff must be >= --webhook-initial-backoff");
        }
        if (webhookTimeout().toMillis() > Integer.MAX_VALUE
                || webhookConnectTimeout().toMillis() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("--webhook-timeout and --webhook-connect-timeout are too large");
        }
    }

    private Duration duration(String name) {
        return duration(name, values.get(name));
    }

    private int integer(String name) {
        return Math.toIntExact(longValue(name));
    }

    private long longValue(String name) {
        try {
            return Long.parseLong(values.get(name).trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + ": not an integer: '" + values.get(name) + "'");
        }
    }

    private double number(String name) {
        try {
            return Double.parseDouble(values.get(name).trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + ": not a number: '" + values.get(name) + "'");
        }
    }

    private boolean bool(String name) {
        String v = values.get(name).trim().toLowerCase(Locale.ROOT);
        if (!v.equals("true") && !v.equals("false")) {
            throw new IllegalArgumentException("--" + name + ": not true or false: '" + values.get(name) + "'");
        }
        return v.equals("true");
    }

    private List<String> list(String name, Function<String, String> map) {
        List<String> out = new ArrayList<>();
        for (String part : values.get(name).split(",")) {
            if (!part.isBlank()) {
                out.add(map.apply(part.trim()));
            }
        }
        return List.copyOf(out);
    }

    /** Durations as {@code 500ms}, {@code 30s}, {@code 5m}, {@code 24h}, {@code 7d}, or a plain number of seconds. */
    static Duration duration(String name, String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        try {
            if (t.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
            }
            long n = Long.parseLong(t.replaceAll("[smhd]$", ""));
            return switch (t.charAt(t.length() - 1)) {
                case 'm' -> Duration.ofMinutes(n);
                case 'h' -> Duration.ofHours(n);
                case 'd' -> Duration.ofDays(n);
                default -> Duration.ofSeconds(n);
            };
        } catch (NumberFormatException | StringIndexOutOfBoundsException e) {
            throw new IllegalArgumentException(
                    "--" + name + ": not a duration: '" + text + "' (e.g. 500ms, 30s, 5m, 24h)");
        }
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

    /** The values, with the webhook secret masked. */
    @Override
    public String toString() {
        Map<String, String> shown = new LinkedHashMap<>(values);
        shown.computeIfPresent("webhook-secret", (k, v) -> v.isEmpty() ? v : "******");
        return "JobConfig" + shown;
    }
}
