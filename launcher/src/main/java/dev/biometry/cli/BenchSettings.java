package dev.biometry.cli;

import dev.biometry.config.JobConfig;
import dev.biometry.face.FaceEngineConfig;
import dev.biometry.face.FacePolicy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import picocli.CommandLine.Model.CommandSpec;

/**
 * The options of {@code bench}, parsed and checked: the benchmark's own (window, warm-up, phases, load, ...) and
 * the job options every run of the job is given.
 *
 * @param rate analyses/s of the latency run ({@code --rate}), or null to derive it from the throughput run
 * @param jobOptions the job options given (with the benchmark's defaults), before each run's topics and ids
 * @param base the job configuration of those options
 * @param objectReuse {@code --object-reuse}: Flink object reuse in every run of the job
 * @param throughputVariants the throughput phase's runs, one after the other in this process, each the job options
 *     it sets over the benchmark's ({@code --throughput-variants}); by default one run that sets none
 * @param latencyVariants the latency phase's runs, one after the other in this process (an A/B of
 *     {@code --latency-variants}); by default one run with {@link #latencyCheckpoint} and the job options'
 *     buffer timeout and delivery guarantee
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
        boolean objectReuse,
        List<Map<String, String>> throughputVariants,
        List<LatencyVariant> latencyVariants,
        boolean json) {

    /** Flink's own network buffer timeout ({@code execution.buffer-timeout.interval}), the variants' {@code flink}. */
    static final Duration FLINK_BUFFER_TIMEOUT = Duration.ofMillis(100);

    /**
     * One run of the latency phase: its checkpoint interval, network buffer timeout, sinks' delivery guarantee, and
     * any other job options ({@code name=value}) it sets.
     */
    record LatencyVariant(
            Duration checkpoint,
            Duration bufferTimeout,
            JobConfig.DeliveryGuarantee guarantee,
            Map<String, String> otherOptions) {

        LatencyVariant(Duration checkpoint, Duration bufferTimeout, JobConfig.DeliveryGuarantee guarantee) {
            this(checkpoint, bufferTimeout, guarantee, Map.of());
        }

        String label() {
            StringBuilder label = new StringBuilder("checkpoints every " + checkpoint.toMillis()
                    + " ms, buffer timeout " + bufferTimeout.toMillis() + " ms, " + guarantee);
            new TreeMap<>(otherOptions)
                    .forEach((k, v) -> label.append(", ").append(k).append(' ').append(v));
            return label.toString();
        }

        /** The job options this variant sets over the benchmark's. */
        Map<String, String> jobOptions() {
            Map<String, String> options = new HashMap<>(otherOptions);
            options.put("checkpoint-interval", checkpoint.toMillis() + "ms");
            options.put("buffer-timeout", bufferTimeout.toMillis() + "ms");
            options.put("delivery-guarantee", guarantee.toString());
            return options;
        }
    }

    /** The options of {@code bench}: its own, then the job options (given to every run of the job). */
    static CommandSpec spec() {
        CommandSpec spec = CommandArgs.command(
                "bench",
                "Benchmark on 1920x1080 JPEGs in one process: raw face chain (faces/s), the whole job with an"
                        + " in-process broker at maximum rate (analyses/s, faces/s), then at --load of it (latency"
                        + " p50/95/99).");
        CommandArgs.value(spec, "seconds", "S", "15", "measured window of each phase");
        CommandArgs.value(spec, "warmup", "S", "5", "shortest warm-up before a window");
        CommandArgs.value(
                spec, "max-warmup", "S", "120", "longest warm-up of each job run (waiting for the JIT to settle)");
        CommandArgs.value(
                spec, "phases", "LIST", "raw,throughput,latency", "comma-separated subset of raw,throughput,latency");
        CommandArgs.value(spec, "in-flight", "N", null, "analyses in flight in the throughput run (default: 32 x P)");
        CommandArgs.value(spec, "load", "F", "0.5", "rate of the latency run, as a fraction of the throughput");
        CommandArgs.value(spec, "rate", "R", null, "analyses/s of the latency run (default: from --load)");
        CommandArgs.value(
                spec, "latency-checkpoint-interval", "DURATION", "100ms", "checkpoint interval of the latency run");
        CommandArgs.value(
                spec,
                "latency-variants",
                "LIST",
                null,
                "run the latency phase once per CHECKPOINT_INTERVAL/BUFFER_TIMEOUT[/DELIVERY_GUARANTEE][/OPTION=VALUE"
                        + "...], side by side in this process (e.g. 100ms/flink,100ms/10,3s/10/at-least-once,"
                        + "100ms/10/state-backend=rocksdb; flink: Flink's 100 ms; by default the job options')");
        CommandArgs.value(
                spec,
                "throughput-variants",
                "LIST",
                null,
                "run the throughput phase once per OPTION=VALUE[/OPTION=VALUE...] or 'default' (the job options as "
                        + "given), side by side in this process (e.g. default,buffer-timeout=100ms,default,"
                        + "buffer-timeout=100ms); the first is the one the targets judge");
        CommandArgs.flag(spec, "object-reuse", "Flink object reuse");
        CommandArgs.value(spec, "images", "DIR", null, "photos (default: the models' samples/)");
        CommandArgs.flag(spec, "json", "the figures as one JSON object on stdout (the report on stderr)");
        return CommandArgs.jobOptions(spec, Map.of("checkpoint-interval", "3s"));
    }

    static BenchSettings parse(CommandArgs args) {
        double seconds = args.doubleOption("seconds", 15);
        double warmup = args.doubleOption("warmup", 5);
        double maxWarmup = Math.max(warmup, args.doubleOption("max-warmup", 120));
        double load = args.doubleOption("load", 0.5);
        Set<String> phases =
                Set.of(args.option("phases", "raw,throughput,latency").split(","));
        if (seconds <= 0 || warmup < 0 || load <= 0 || load > 1) {
            throw new UsageException("--seconds must be > 0, --warmup >= 0, --load in (0,1]");
        }
        if (!Set.of("raw", "throughput", "latency").containsAll(phases)) {
            throw new UsageException("--phases is a comma-separated subset of raw,throughput,latency");
        }
        if (phases.contains("latency") && !phases.contains("throughput") && args.option("rate") == null) {
            throw new UsageException("--phases without throughput needs --rate (analyses/s of the latency run)");
        }
        Path models = ModelsLocator.locate(args.option("models"));
        Map<String, String> jobOptions = new HashMap<>();
        jobOptions.put("models", models.toString());
        jobOptions.put("checkpoint-interval", "3s");
        args.putJobOptions(jobOptions);
        JobConfig base = RunCommand.jobConfig(args, jobOptions);
        int inFlight = args.intOption("in-flight", 32 * base.parallelism());
        Duration latencyCheckpoint =
                millis("latency-checkpoint-interval", args.option("latency-checkpoint-interval", "100ms"));
        Double rate = args.option("rate") != null ? args.doubleOption("rate", 1) : null;
        List<LatencyVariant> latencyVariants = new ArrayList<>();
        if (args.option("latency-variants") == null) {
            latencyVariants.add(new LatencyVariant(latencyCheckpoint, base.bufferTimeout(), base.deliveryGuarantee()));
        } else {
            for (String v : args.option("latency-variants").split(",")) {
                latencyVariants.add(variant(v.strip(), base, jobOptions));
            }
        }
        List<Map<String, String>> throughputVariants = new ArrayList<>();
        if (args.option("throughput-variants") == null) {
            throughputVariants.add(Map.of());
        } else {
            for (String v : args.option("throughput-variants").split(",")) {
                throughputVariants.add(throughputVariant(v.strip(), jobOptions));
            }
        }
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
                args.flag("object-reuse"),
                List.copyOf(throughputVariants),
                List.copyOf(latencyVariants),
                args.flag("json"));
    }

    /**
     * One of {@code --throughput-variants}: {@code default}, or OPTION=VALUE[/OPTION=VALUE...], checked as the job
     * would check them.
     */
    private static Map<String, String> throughputVariant(String text, Map<String, String> jobOptions) {
        if (text.equals("default")) {
            return Map.of();
        }
        Map<String, String> variant = new HashMap<>();
        for (String part : text.split("/")) {
            Map.Entry<String, String> option = optionValue(part);
            if (option == null) {
                throw new UsageException("--throughput-variants: '" + text
                        + "' is neither 'default' nor OPTION=VALUE[/OPTION=VALUE...]");
            }
            variant.put(option.getKey(), option.getValue());
        }
        checkAsTheJobWould("--throughput-variants", text, jobOptions, variant);
        return Map.copyOf(variant);
    }

    /**
     * One of {@code --latency-variants}: CHECKPOINT_INTERVAL/BUFFER_TIMEOUT[/DELIVERY_GUARANTEE][/OPTION=VALUE...],
     * the other job options checked as the job would check them.
     */
    private static LatencyVariant variant(String text, JobConfig base, Map<String, String> jobOptions) {
        String[] parts = text.split("/");
        if (parts.length < 2) {
            throw new UsageException(
                    "--latency-variants: '" + text
                            + "' is not CHECKPOINT_INTERVAL/BUFFER_TIMEOUT[/DELIVERY_GUARANTEE][/OPTION=VALUE...] (e.g. 100ms/10)");
        }
        Duration buffer =
                parts[1].strip().equals("flink") ? FLINK_BUFFER_TIMEOUT : millis("latency-variants", parts[1]);
        JobConfig.DeliveryGuarantee guarantee = base.deliveryGuarantee();
        Map<String, String> other = new HashMap<>();
        for (int i = 2; i < parts.length; i++) {
            String part = parts[i].strip();
            Map.Entry<String, String> option = optionValue(part);
            if (option != null) {
                other.put(option.getKey(), option.getValue());
                continue;
            }
            try {
                guarantee = JobConfig.DeliveryGuarantee.valueOf(
                        part.toUpperCase(Locale.ROOT).replace('-', '_'));
            } catch (IllegalArgumentException e) {
                throw new UsageException("--latency-variants: '" + part
                        + "' is neither a delivery guarantee (exactly-once or at-least-once) nor OPTION=VALUE");
            }
        }
        LatencyVariant variant = new LatencyVariant(millis("latency-variants", parts[0]), buffer, guarantee, other);
        checkAsTheJobWould("--latency-variants", text, jobOptions, variant.jobOptions());
        return variant;
    }

    /** A variant's OPTION=VALUE part as an entry, both sides stripped; null where it names no option before '='. */
    private static Map.Entry<String, String> optionValue(String part) {
        int eq = part.indexOf('=');
        return eq <= 0
                ? null
                : Map.entry(
                        part.substring(0, eq).strip(), part.substring(eq + 1).strip());
    }

    /**
     * Checks the job options of a variant ({@code overrides} over the bench's {@code jobOptions}) as the job would,
     * naming the bench option and the variant's {@code text} in the error.
     */
    private static void checkAsTheJobWould(
            String option, String text, Map<String, String> jobOptions, Map<String, String> overrides) {
        try {
            Map<String, String> options = new HashMap<>(jobOptions);
            options.putAll(overrides);
            JobConfig.fromOptions(options);
        } catch (IllegalArgumentException e) {
            throw new UsageException(option + ": '" + text + "': " + e.getMessage());
        }
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
            throw new UsageException("--" + name + ": not a duration: '" + text + "' (e.g. 100ms, 2s)");
        }
    }
}
