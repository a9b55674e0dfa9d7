package dev.biometry.cli;

import dev.biometry.config.JobConfig;
import dev.biometry.face.FaceEngineConfig;
import dev.biometry.face.FacePolicy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The options of {@code bench}, parsed and checked: the benchmark's own (window, warm-up, phases, load, ...) and
 * the job options every run of the job is given.
 *
 * @param rate analyses/s of the latency run ({@code --rate}), or null to derive it from the throughput run
 * @param jobOptions the job options given (with the benchmark's defaults), before each run's topics and ids
 * @param base the job configuration of those options
 * @param bufferTimeoutMillis {@code --buffer-timeout}, or null for Flink's default
 */
record BenchSettings(
        double seconds,
        double warmup,
        double maxWarmup,
        double load,
        Set<String> phases,
        Double rate,
        Path models,
        Path images,
        Map<String, String> jobOptions,
        JobConfig base,
        int inFlight,
        Duration latencyCheckpoint,
        Long bufferTimeoutMillis,
        PipelineRun.Tuning tuning,
        boolean json) {

    private static final Set<String> BENCH_OPTIONS = Set.of(
            "seconds",
            "warmup",
            "max-warmup",
            "images",
            "in-flight",
            "load",
            "rate",
            "latency-checkpoint-interval",
            "buffer-timeout",
            "phases");

    static BenchSettings parse(String[] argv) {
        Set<String> valueOptions = new HashSet<>(RunCommand.jobOptionNames());
        valueOptions.addAll(BENCH_OPTIONS);
        Args args = Args.parse(argv, valueOptions, Set.of("json", "object-reuse"));
        if (!args.positionals().isEmpty()) {
            throw new Args.UsageException(
                    "unexpected argument '" + args.positionals().get(0) + "'");
        }
        double seconds = args.doubleOption("seconds", 15);
        double warmup = args.doubleOption("warmup", 5);
        double maxWarmup = Math.max(warmup, args.doubleOption("max-warmup", 120));
        double load = args.doubleOption("load", 0.5);
        Set<String> phases =
                Set.of(args.option("phases", "raw,throughput,latency").split(","));
        if (seconds <= 0 || warmup < 0 || load <= 0 || load > 1) {
            throw new Args.UsageException("--seconds must be > 0, --warmup >= 0, --load in (0,1]");
        }
        if (!Set.of("raw", "throughput", "latency").containsAll(phases)) {
            throw new Args.UsageException("--phases is a comma-separated subset of raw,throughput,latency");
        }
        if (phases.contains("latency") && !phases.contains("throughput") && args.option("rate") == null) {
            throw new Args.UsageException("--phases without throughput needs --rate (analyses/s of the latency run)");
        }
        Path models = ModelsLocator.locate(args.option("models"));
        Map<String, String> jobOptions = new HashMap<>();
        jobOptions.put("models", models.toString());
        jobOptions.put("checkpoint-interval", "3s");
        for (JobConfig.Option o : JobConfig.OPTIONS) {
            if (args.option(o.name()) != null) {
                jobOptions.put(o.name(), args.option(o.name()));
            }
        }
        JobConfig base = RunCommand.jobConfig(args, jobOptions);
        int inFlight = args.intOption("in-flight", 32 * base.parallelism());
        Duration latencyCheckpoint =
                millis("latency-checkpoint-interval", args.option("latency-checkpoint-interval", "100ms"));
        Long bufferTimeout = args.option("buffer-timeout") == null
                ? null
                : millis("buffer-timeout", args.option("buffer-timeout")).toMillis();
        Double rate = args.option("rate") != null ? args.doubleOption("rate", 1) : null;
        Path images = Path.of(args.option("images", models.resolve("samples").toString()));
        return new BenchSettings(
                seconds,
                warmup,
                maxWarmup,
                load,
                phases,
                rate,
                models,
                images,
                jobOptions,
                base,
                inFlight,
                latencyCheckpoint,
                bufferTimeout,
                new PipelineRun.Tuning(bufferTimeout, args.flag("object-reuse")),
                args.flag("json"));
    }

    int parallelism() {
        return base.parallelism();
    }

    /** The face engine of the raw phase and of the image check: the job's settings, one intra-op thread. */
    FaceEngineConfig engineConfig() {
        return new FaceEngineConfig(
                models,
                base.detectionScore(),
                FaceEngineConfig.DEFAULT_NMS_IOU,
                base.ortThreads(),
                1,
                base.embeddingPrecision());
    }

    /** The job's face policy and quality gate. */
    FacePolicy facePolicy() {
        return new FacePolicy(
                FacePolicy.MultipleFaces.valueOf(base.facePolicy().toUpperCase(Locale.ROOT)),
                base.minFaceSide(),
                base.minEyeDistance(),
                base.minSharpness(),
                base.minFaceScore());
    }

    /** A duration given as {@code 100ms}, {@code 2s} or a plain number of milliseconds. */
    static Duration millis(String name, String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        try {
            if (t.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
            }
            if (t.endsWith("s")) {
                return Duration.ofMillis(Math.round(Double.parseDouble(t.substring(0, t.length() - 1)) * 1000));
            }
            return Duration.ofMillis(Long.parseLong(t));
        } catch (NumberFormatException e) {
            throw new Args.UsageException("--" + name + ": not a duration: '" + text + "' (e.g. 100ms, 2s)");
        }
    }
}
