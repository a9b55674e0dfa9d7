package dev.biometry.config;

import java.io.Serializable;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * Every setting of the biometry job, with its default and documentation. Each option is given on the command
 * line as {@code --name value}; {@link #OPTIONS} is the single list the CLI, the README table and validation use.
 */
public record JobConfig(
        String bootstrapServers,
        String mediaTopic,
        String requestsTopic,
        String resultsTopic,
        String foldersTopic,
        String deadLetterTopic,
        String groupId,
        String startingOffsets,
        String transactionalIdPrefix,
        Duration transactionTimeout,
        Duration checkpointInterval,
        int parallelism,
        String modelsDir,
        List<String> mediaRoots,
        long mediaMaxBytes,
        float detectionScore,
        int ortThreads,
        double defaultThreshold,
        Duration mediaWait,
        Duration embeddingCacheTtl,
        Duration folderTtl,
        Duration analysisTimeout) implements Serializable {

    private static final long serialVersionUID = 1L;

    /** One documented option: its name, default (null = required or unset) and meaning. */
    public record Option(String name, String defaultValue, String description) {}

    public static final List<Option> OPTIONS = List.of(
            new Option("bootstrap-servers", null, "Kafka bootstrap servers (host:port,...); required for `run`"),
            new Option("media-topic", "biometry.media", "input: media references, key folder_id"),
            new Option("requests-topic", "biometry.requests", "input: analysis requests, key folder_id"),
            new Option("results-topic", "biometry.results", "output: Oz analysis objects, key analyse_id"),
            new Option("folders-topic", "biometry.folders", "output: folder objects with status roll-up, key folder_id"),
            new Option("dead-letter-topic", "biometry.dead-letter", "output: input records that failed parsing or validation"),
            new Option("group-id", "biometry", "Kafka consumer group id (offsets are committed on checkpoints)"),
            new Option("starting-offsets", "committed-or-earliest",
                    "where to start without a checkpoint: earliest, latest or committed-or-earliest"),
            new Option("transactional-id-prefix", "biometry",
                    "prefix of the exactly-once sinks' transactional ids; unique per job on a cluster"),
            new Option("transaction-timeout", "15m",
                    "Kafka transaction.timeout.ms of the exactly-once sinks: must exceed the checkpoint interval plus "
                            + "the longest expected restart, and not exceed the broker's transaction.max.timeout.ms (default 15m)"),
            new Option("checkpoint-interval", "10s", "checkpoint interval; results become visible to read_committed consumers on each checkpoint"),
            new Option("parallelism", String.valueOf(Runtime.getRuntime().availableProcessors()),
                    "job parallelism (default: cores); each slot runs one face engine"),
            new Option("models", "models", "folder with fr_detect.onnx, fr_landmark.onnx, fr_feature.onnx"),
            new Option("media-roots", "", "comma-separated folders that file:// media URIs may point into; empty refuses every file URI"),
            new Option("media-max-bytes", String.valueOf(10L * 1024 * 1024), "largest media file read, in bytes (Oz default 10 MiB)"),
            new Option("detection-score", "0.65", "minimum detector score for a face"),
            new Option("ort-threads", "1", "ONNX Runtime intra-op threads per session (one session set per slot)"),
            new Option("threshold", "0.85", "default confidence threshold for SUCCESS when a request gives none"),
            new Option("media-wait", "60s",
                    "how long an analysis waits for media named in source_media that are not yet known (processing time)"),
            new Option("embedding-cache-ttl", "24h", "how long a media's embedding is kept so re-verification skips inference (0 = off)"),
            new Option("folder-ttl", "24h", "how long a folder's media references and status are kept after their last update"),
            new Option("analysis-timeout", "10m", "an analysis whose embeddings are not all back by then FAILS (error 0)"));

    /** Parses {@code --name value} pairs (already split into a map, names without dashes); unknown names fail. */
    public static JobConfig fromOptions(Map<String, String> given) {
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
        Function<String, String> v = values::get;
        List<String> roots = new ArrayList<>();
        for (String r : v.apply("media-roots").split(",")) {
            if (!r.isBlank()) {
                roots.add(Path.of(r.trim()).toAbsolutePath().normalize().toString());
            }
        }
        JobConfig c = new JobConfig(
                v.apply("bootstrap-servers"),
                v.apply("media-topic"), v.apply("requests-topic"), v.apply("results-topic"), v.apply("folders-topic"),
                v.apply("dead-letter-topic"), v.apply("group-id"), v.apply("starting-offsets"),
                v.apply("transactional-id-prefix"), duration("transaction-timeout", v.apply("transaction-timeout")),
                duration("checkpoint-interval", v.apply("checkpoint-interval")),
                integer("parallelism", v.apply("parallelism")),
                Path.of(v.apply("models")).toAbsolutePath().normalize().toString(), List.copyOf(roots),
                longValue("media-max-bytes", v.apply("media-max-bytes")),
                (float) number("detection-score", v.apply("detection-score")),
                integer("ort-threads", v.apply("ort-threads")),
                number("threshold", v.apply("threshold")),
                duration("media-wait", v.apply("media-wait")),
                duration("embedding-cache-ttl", v.apply("embedding-cache-ttl")),
                duration("folder-ttl", v.apply("folder-ttl")),
                duration("analysis-timeout", v.apply("analysis-timeout")));
        c.validate();
        return c;
    }

    private void validate() {
        if (!List.of("earliest", "latest", "committed-or-earliest").contains(startingOffsets)) {
            throw new IllegalArgumentException("--starting-offsets must be earliest, latest or committed-or-earliest");
        }
        if (parallelism < 1 || ortThreads < 1) {
            throw new IllegalArgumentException("--parallelism and --ort-threads must be >= 1");
        }
        if (!(defaultThreshold >= 0 && defaultThreshold <= 1)) {
            throw new IllegalArgumentException("--threshold must be in [0,1]");
        }
        if (!(detectionScore > 0 && detectionScore < 1)) {
            throw new IllegalArgumentException("--detection-score must be in (0,1)");
        }
        if (mediaMaxBytes < 1) {
            throw new IllegalArgumentException("--media-max-bytes must be positive");
        }
        if (checkpointInterval.isZero() || transactionTimeout.compareTo(checkpointInterval) <= 0) {
            throw new IllegalArgumentException("--transaction-timeout must exceed --checkpoint-interval (> 0)");
        }
        if (mediaWait.isZero() || folderTtl.isZero() || analysisTimeout.isZero()) {
            throw new IllegalArgumentException("--media-wait, --folder-ttl and --analysis-timeout must be > 0");
        }
    }

    public JobConfig withBootstrapServers(String servers) {
        return new JobConfig(servers, mediaTopic, requestsTopic, resultsTopic, foldersTopic, deadLetterTopic, groupId,
                startingOffsets, transactionalIdPrefix, transactionTimeout, checkpointInterval, parallelism, modelsDir,
                mediaRoots, mediaMaxBytes, detectionScore, ortThreads, defaultThreshold, mediaWait, embeddingCacheTtl,
                folderTtl, analysisTimeout);
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
            throw new IllegalArgumentException("--" + name + ": not a duration: '" + text + "' (e.g. 500ms, 30s, 5m, 24h)");
        }
    }

    private static int integer(String name, String text) {
        return Math.toIntExact(longValue(name, text));
    }

    private static long longValue(String name, String text) {
        try {
            return Long.parseLong(text.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + ": not an integer: '" + text + "'");
        }
    }

    private static double number(String name, String text) {
        try {
            return Double.parseDouble(text.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + ": not a number: '" + text + "'");
        }
    }

    /** The options as a Markdown table, for the README and {@code --help}. */
    public static String markdownTable() {
        StringBuilder sb = new StringBuilder("| option | default | meaning |\n|---|---|---|\n");
        for (Option o : OPTIONS) {
            sb.append("| `--").append(o.name()).append("` | ")
                    .append(o.defaultValue() == null ? "(required)" : o.defaultValue().isEmpty() ? "(empty)" : "`" + o.defaultValue() + "`")
                    .append(" | ").append(o.description()).append(" |\n");
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return "JobConfig" + Arrays.toString(new Object[] {bootstrapServers, parallelism, modelsDir, mediaRoots});
    }
}
