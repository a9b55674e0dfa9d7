package dev.biometry.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.biometry.api.Json;
import dev.biometry.api.MediaType;
import dev.biometry.config.JobConfig;
import dev.biometry.face.FaceEngine;
import dev.biometry.face.FaceEngineConfig;
import dev.biometry.face.FacePolicy;
import dev.biometry.face.MediaAnalyzer;
import dev.biometry.face.MediaFaces;
import dev.biometry.face.StageTimings.Stage;
import dev.biometry.local.EmbeddedKafkaBroker;
import dev.biometry.media.MediaFetcher;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * {@code bench [--seconds S] [--parallelism P] [--json] [job options]}: the benchmark of the whole job on one machine,
 * in one process, on 1920x1080 JPEGs made from the sample photos.
 * <ol>
 *   <li><b>raw</b>: the face chain (decode, detect, landmarks, align, embed) in a tight loop on P threads, one engine
 *       each: faces/s, the ceiling;</li>
 *   <li><b>throughput</b>: the job (in-process Kafka, Flink, exactly-once sinks, checkpointing) at maximum rate, fed
 *       by a closed loop that keeps a fixed number of two-photo analyses in flight: analyses/s and faces/s read
 *       with read_committed over a steady window;</li>
 *   <li><b>latency</b>: the job again (short checkpoint interval) fed at a fraction (default 50 %) of that rate by a
 *       paced producer: request-to-result latency percentiles, read_committed and read_uncommitted.</li>
 * </ol>
 * Every analysis names new media ids and new file paths, so the embedding cache never answers.
 */
final class BenchCommand {

    private static final Set<String> BENCH_OPTIONS = Set.of("seconds", "warmup", "max-warmup", "images", "in-flight", "load", "rate",
            "latency-checkpoint-interval", "buffer-timeout", "phases");
    private static final double TARGET_RATIO = 0.90;
    private static final double TARGET_ANALYSES_PER_CORE = 15;
    private static final double TARGET_P99_MS = 250;

    private BenchCommand() {}

    static int run(String[] argv, PrintStream out, PrintStream err) throws Exception {
        Set<String> valueOptions = new HashSet<>(RunCommand.jobOptionNames());
        valueOptions.addAll(BENCH_OPTIONS);
        Args args = Args.parse(argv, valueOptions, Set.of("json", "object-reuse"));
        if (!args.positionals().isEmpty()) {
            throw new Args.UsageException("unexpected argument '" + args.positionals().get(0) + "'");
        }
        double seconds = args.doubleOption("seconds", 15);
        double warmup = args.doubleOption("warmup", 5);
        double maxWarmup = Math.max(warmup, args.doubleOption("max-warmup", 120));
        double load = args.doubleOption("load", 0.5);
        Set<String> phases = Set.of(args.option("phases", "raw,throughput,latency").split(","));
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
        int parallelism = base.parallelism();
        int inFlight = args.intOption("in-flight", 32 * parallelism);
        Duration latencyCheckpoint = millis("latency-checkpoint-interval", args.option("latency-checkpoint-interval", "100ms"));
        Long bufferTimeout = args.option("buffer-timeout") == null ? null
                : millis("buffer-timeout", args.option("buffer-timeout")).toMillis();
        PipelineRun.Tuning tuning = new PipelineRun.Tuning(bufferTimeout, args.flag("object-reuse"));
        PrintStream report = args.flag("json") ? err : out;
        int cores = Runtime.getRuntime().availableProcessors();

        ObjectNode json = Json.mapper().createObjectNode();
        ObjectNode machine = json.putObject("machine");
        machine.put("cores", cores);
        machine.put("cpu_model", Machine.cpuModel());
        machine.put("java", System.getProperty("java.version"));
        machine.put("max_heap_mb", Runtime.getRuntime().maxMemory() >> 20);
        json.putObject("load_average").put("start", loadAverage());
        report.printf(Locale.ROOT, "machine          %d cores, %s, Java %s; load average %s%n", cores, Machine.cpuModel(),
                System.getProperty("java.version"), loadAverage());

        try (BenchImages images = BenchImages.prepare(Path.of(args.option("images", models.resolve("samples").toString())))) {
            FaceEngineConfig engineConfig = new FaceEngineConfig(models, base.detectionScore(),
                    FaceEngineConfig.DEFAULT_NMS_IOU, base.ortThreads(), 1, base.embeddingPrecision());
            FacePolicy policy = new FacePolicy(FacePolicy.MultipleFaces.valueOf(base.facePolicy().toUpperCase(Locale.ROOT)),
                    base.minFaceSide(), base.minEyeDistance(), base.minSharpness(), base.minFaceScore());
            keepImagesWithAFace(images, engineConfig, policy, report);
            ObjectNode settings = json.putObject("settings");
            settings.put("seconds", seconds);
            settings.put("warmup_seconds", warmup);
            settings.put("max_warmup_seconds", maxWarmup);
            settings.put("parallelism", parallelism);
            settings.put("images", images.images().size());
            settings.put("embedding_precision", engineConfig.embeddingPrecision().optionValue());
            settings.put("image_size", BenchImages.WIDTH + "x" + BenchImages.HEIGHT);
            settings.put("jpeg_kb_mean", round(images.meanJpegKilobytes(), 1));
            settings.put("throughput_checkpoint_interval_ms", base.checkpointInterval().toMillis());
            settings.put("latency_checkpoint_interval_ms", latencyCheckpoint.toMillis());
            settings.put("in_flight", inFlight);
            settings.put("load_fraction", load);
            if (bufferTimeout == null) {
                settings.putNull("buffer_timeout_ms");
            } else {
                settings.put("buffer_timeout_ms", bufferTimeout);
            }
            settings.put("object_reuse", tuning.objectReuse());
            settings.put("embedding_cache_ttl", base.embeddingCacheTtl().toString());
            report.printf(Locale.ROOT, "images           %d sample photos as %dx%d JPEG (%.0f KB mean); parallelism %d; "
                    + "window %.0f s after at least %.0f s warm-up (more until the JIT settles, at most %.0f s)%n",
                    images.images().size(), BenchImages.WIDTH, BenchImages.HEIGHT,
                    images.meanJpegKilobytes(), parallelism, seconds, warmup, maxWarmup);

            double rawFacesPerSecond = Double.NaN;
            if (phases.contains("raw")) {
                rawFacesPerSecond = rawPhase(images, engineConfig, policy, base, parallelism, seconds, json, report, err);
            }

            double analysesPerSecond = Double.NaN;
            double uncommittedAnalysesPerSecond = Double.NaN;
            double pipelineFacesPerSecond = Double.NaN;
            double p99 = Double.NaN;
            err.println("bench: starting an in-process Kafka broker");
            try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start()) {
                if (phases.contains("throughput")) {
                    ObjectNode t = json.putObject("throughput");
                    throughputPhase(broker, base, jobOptions, tuning, images, seconds, warmup, maxWarmup, inFlight, t, report, err);
                    analysesPerSecond = t.path("analyses_per_s").asDouble();
                    pipelineFacesPerSecond = t.path("faces_per_s").asDouble();
                    uncommittedAnalysesPerSecond = t.path("read_uncommitted_analyses_per_s").asDouble();
                }
                if (phases.contains("latency")) {
                    // Without a committed rate (no two commits in the window), the pipeline's own rate is the basis.
                    double basis = analysesPerSecond > 0 ? analysesPerSecond : uncommittedAnalysesPerSecond;
                    double rate = args.option("rate") != null ? args.doubleOption("rate", 1) : load * basis;
                    ObjectNode l = json.putObject("latency");
                    latencyPhase(broker, jobOptions, latencyCheckpoint, tuning, images, rate, seconds, warmup, l, report, err);
                    p99 = l.path("read_committed_ms").path("p99").asDouble(Double.NaN);
                }
            }
            summary(json, report, cores, rawFacesPerSecond, analysesPerSecond, pipelineFacesPerSecond, p99);
        }
        ((ObjectNode) json.get("load_average")).put("end", loadAverage());
        long peakRss = ProcessMemory.peakRssKilobytes();
        json.put("peak_rss_mb", peakRss < 0 ? -1 : round(peakRss / 1024.0, 0));
        report.printf(Locale.ROOT, "peak RSS         %.0f MB (VmHWM); load average at end %s%n", peakRss / 1024.0, loadAverage());
        if (!args.flag("json")) {
            out.println();
        }
        nanToNull(json);
        out.println(Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(json));
        return 0;
    }

    /** Drops images whose main face the job would not embed (none found, or below the quality gate). */
    private static void keepImagesWithAFace(BenchImages images, FaceEngineConfig config, FacePolicy policy,
            PrintStream report) throws Exception {
        List<Integer> keep = new ArrayList<>();
        try (FaceEngine engine = new FaceEngine(config)) {
            MediaAnalyzer analyzer = new MediaAnalyzer(engine, policy, MediaAnalyzer.Limits.DEFAULTS);
            for (int i = 0; i < images.images().size(); i++) {
                BenchImages.Image image = images.images().get(i);
                MediaFaces.Result r = analyzer.analyze(image.jpeg(), MediaType.IMAGE_FOLDER, false, image.name());
                if (r.template() != null && engine.analyze(image.jpeg(), image.name()).hasFace()) {
                    keep.add(i);
                } else {
                    report.printf(Locale.ROOT, "images           %s left out: %s%n", image.name(), r.problem());
                }
            }
        }
        if (keep.size() < 2) {
            throw new Args.UsageException("fewer than two images with a usable face");
        }
        images.retain(keep);
    }

    private static double rawPhase(BenchImages images, FaceEngineConfig engineConfig, FacePolicy policy, JobConfig base,
            int threads, double seconds, ObjectNode json, PrintStream report, PrintStream err) throws Exception {
        List<BenchImages.Image> list = images.images();
        err.printf(Locale.ROOT, "bench: raw chain, %d thread(s), %.0f s%n", threads, seconds);
        RawChainBench.Result chain = RawChainBench.run(engineConfig, threads, list.size(), seconds,
                (engine, i) -> engine.analyze(list.get(i).jpeg(), list.get(i).name()).hasFace());
        // What the embed-faces operator runs per media, without Flink: file read under the media roots, content
        // sniffing, header check, decode, detect, landmarks, align, sharpness, quality gate, embed.
        MediaFetcher fetcher = new MediaFetcher(List.of(images.root().toString()), base.mediaMaxBytes());
        double analyzerSeconds = Math.max(2, seconds / 3);
        err.printf(Locale.ROOT, "bench: media analyzer as in embed-faces, %d thread(s), %.0f s%n", threads, analyzerSeconds);
        Map<Thread, MediaAnalyzer> analyzers = new java.util.concurrent.ConcurrentHashMap<>();
        RawChainBench.Result operator = RawChainBench.run(engineConfig, threads, list.size(), analyzerSeconds, (engine, i) -> {
            MediaAnalyzer analyzer = analyzers.computeIfAbsent(Thread.currentThread(),
                    t -> new MediaAnalyzer(engine, policy, MediaAnalyzer.Limits.DEFAULTS));
            byte[] bytes = fetcher.fetch(list.get(i).file().toUri().toString());
            return analyzer.analyze(bytes, MediaType.IMAGE_FOLDER, false, list.get(i).name()).template() != null;
        });
        var ms = chain.timings().meanMillis();
        double chainMs = ms.get(Stage.DECODE) + ms.get(Stage.DETECT) + ms.get(Stage.LANDMARKS) + ms.get(Stage.ALIGN)
                + ms.get(Stage.EMBED);
        ObjectNode raw = json.putObject("raw");
        raw.put("faces_per_s", round(chain.facesPerSecond(), 2));
        raw.put("faces_per_s_per_thread", round(chain.facesPerSecond() / threads, 2));
        raw.put("faces", chain.faces());
        raw.put("seconds", round(chain.seconds(), 2));
        ObjectNode stages = raw.putObject("ms_per_face");
        for (Stage s : Stage.values()) {
            stages.put(s.name().toLowerCase(Locale.ROOT), round(ms.get(s), 2));
        }
        stages.put("chain", round(chainMs, 2));
        raw.put("process_cpu_cores", round(chain.cpu().processCpuSeconds() / chain.cpu().wallSeconds(), 2));
        raw.put("other_processes_cpu_cores", round(chain.cpu().otherProcessesCores(), 2));
        raw.put("embed_operator_work_faces_per_s", round(operator.facesPerSecond(), 2));
        raw.put("embed_operator_work_other_processes_cpu_cores", round(operator.cpu().otherProcessesCores(), 2));
        raw.put("load_average", loadAverage());
        report.printf(Locale.ROOT, "raw chain        %.1f faces/s on %d thread(s) (%.1f per thread), decode included; "
                + "ms/face %.2f = decode %.2f + detect %.2f + landmarks %.2f + align %.2f + embed %.2f; CPU %.2f cores "
                + "(other processes %.2f)%n",
                chain.facesPerSecond(), threads, chain.facesPerSecond() / threads, chainMs, ms.get(Stage.DECODE),
                ms.get(Stage.DETECT), ms.get(Stage.LANDMARKS), ms.get(Stage.ALIGN), ms.get(Stage.EMBED),
                chain.cpu().processCpuSeconds() / chain.cpu().wallSeconds(), chain.cpu().otherProcessesCores());
        report.printf(Locale.ROOT, "embed-op work    %.1f faces/s: the embed operator's per-media work without Flink "
                + "(file read, sniff, header check, chain, sharpness, quality gate); other processes %.2f cores%n",
                operator.facesPerSecond(), operator.cpu().otherProcessesCores());
        return chain.facesPerSecond();
    }

    /** The job options of one run: the user's, with the run's own topics, ids, media root and checkpoint interval. */
    private static JobConfig runConfig(Map<String, String> jobOptions, String bootstrap, String run, Duration checkpoint,
            BenchImages images) {
        Map<String, String> given = new HashMap<>(jobOptions);
        String suffix = run + "-" + Long.toString(System.nanoTime(), 36);
        given.put("bootstrap-servers", bootstrap);
        given.put("media-topic", "bench." + run + ".media");
        given.put("requests-topic", "bench." + run + ".requests");
        given.put("results-topic", "bench." + run + ".results");
        given.put("folders-topic", "bench." + run + ".folders");
        given.put("dead-letter-topic", "bench." + run + ".dead-letter");
        given.put("group-id", "bench-" + suffix);
        given.put("transactional-id-prefix", "bench-" + suffix);
        given.put("starting-offsets", "earliest");
        given.put("media-roots", images.root().toString());
        given.put("checkpoint-interval", checkpoint.toMillis() + "ms");
        // Checkpoints on disk, as on a cluster (the images' temporary folder), unless --checkpoint-dir is given.
        given.putIfAbsent("checkpoint-dir", images.root().resolve("checkpoints-" + run).toUri().toString());
        return JobConfig.fromOptions(given);
    }

    private static void createTopics(EmbeddedKafkaBroker broker, JobConfig config) {
        broker.createTopics(config.parallelism(), config.mediaTopic(), config.requestsTopic(), config.resultsTopic(),
                config.foldersTopic(), config.deadLetterTopic());
    }

    /** JIT compilation below this share of a core counts as settled: the job runs compiled code. */
    private static final double QUIET_JIT_SECONDS_PER_S = 0.05;

    /**
     * Waits, at full load, until the JIT compilers spend less than {@link #QUIET_JIT_SECONDS_PER_S} of a core over
     * 5 s, or until {@code deadline}. On 2 cores the compilers take half a core for the first minute or more of the
     * job (Kafka clients, Flink runtime, Jackson), which would otherwise be measured as pipeline overhead.
     *
     * @return the compilers' share of a core over the last 5 s
     */
    private static double awaitQuietCompiler(long deadline, PrintStream err) throws InterruptedException {
        java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
        if (jit == null || !jit.isCompilationTimeMonitoringSupported()) {
            return Double.NaN;
        }
        while (true) {
            long before = jit.getTotalCompilationTime();
            long t0 = System.nanoTime();
            Thread.sleep(5_000);
            double rate = (jit.getTotalCompilationTime() - before) / 1e3 / ((System.nanoTime() - t0) / 1e9);
            if (rate < QUIET_JIT_SECONDS_PER_S || System.nanoTime() >= deadline) {
                err.printf(Locale.ROOT, "bench: JIT at %.3f s/s, measuring%n", rate);
                return rate;
            }
            err.printf(Locale.ROOT, "bench: warming up (JIT compiling %.2f s/s)%n", rate);
        }
    }

    private static void throughputPhase(EmbeddedKafkaBroker broker, JobConfig base, Map<String, String> jobOptions,
            PipelineRun.Tuning tuning,
            BenchImages images, double seconds, double warmup, double maxWarmup, int inFlight, ObjectNode json,
            PrintStream report, PrintStream err) throws Exception {
        JobConfig config = runConfig(jobOptions, broker.bootstrapServers(), "throughput", base.checkpointInterval(), images);
        createTopics(broker, config);
        err.printf(Locale.ROOT, "bench: throughput run: job with checkpoints every %d ms, %d analyses in flight%n",
                config.checkpointInterval().toMillis(), inFlight);
        try (PipelineRun run = PipelineRun.start(config, tuning, images, err)) {
            run.awaitReady(2 * config.parallelism(), Duration.ofMinutes(3));
            Semaphore permits = new Semaphore(inFlight);
            run.onUncommittedFinal(id -> permits.release());
            AtomicReference<Exception> failure = new AtomicReference<>();
            Thread producer = new Thread(() -> {
                try {
                    while (!Thread.currentThread().isInterrupted()) {
                        if (permits.tryAcquire(100, TimeUnit.MILLISECONDS)) {
                            run.send();
                        }
                    }
                } catch (InterruptedException e) {
                    // stop
                } catch (Exception e) {
                    failure.set(e);
                }
            }, "bench-producer");
            producer.start();
            long runStart = System.nanoTime();
            sleepUntil(runStart + (long) (warmup * 1e9));
            double jitRate = awaitQuietCompiler(runStart + (long) (maxWarmup * 1e9), err);
            long windowStart = System.nanoTime();
            long windowEnd = windowStart + (long) (seconds * 1e9);
            json.put("warmup_s", round((windowStart - runStart) / 1e9, 1));
            json.put("jit_seconds_per_s_before_window", round(jitRate, 3));
            ThreadCpu.Snapshot cpuStart = ThreadCpu.take();
            sleepUntil(windowEnd);
            ThreadCpu.Snapshot cpuEnd = ThreadCpu.take();
            String loadAtEnd = loadAverage();
            // Under exactly-once, results become readable in groups, one per completed checkpoint. When fewer than
            // three groups fell inside the window (slow checkpoints on a loaded machine), the window is extended,
            // still at full load, until they do (at most 10 s or 10 checkpoint intervals longer).
            long commitGroupGap = Math.min(200_000_000L, config.checkpointInterval().toNanos() / 3);
            long measuredEnd = windowEnd;
            long extendLimit = windowEnd + Math.max(10_000_000_000L, 10 * config.checkpointInterval().toNanos());
            WindowRate committed = WindowRate.of(run.committed().values(), windowStart, measuredEnd, commitGroupGap);
            while (committed.batches() < 2 && System.nanoTime() < extendLimit && failure.get() == null) {
                Thread.sleep(100);
                measuredEnd = System.nanoTime();
                committed = WindowRate.of(run.committed().values(), windowStart, measuredEnd, commitGroupGap);
            }
            producer.interrupt();
            producer.join();
            if (failure.get() != null) {
                throw failure.get();
            }
            WindowRate uncommitted = WindowRate.of(run.uncommitted().values(), windowStart, measuredEnd, 1_000_000L);
            long seriesStart = windowStart - (long) (warmup * 1e9);
            int seriesSeconds = (int) Math.ceil(warmup + seconds);
            long failed = run.committed().values().stream().filter(PipelineRun.Arrival::failed).count();
            ThreadCpu.Breakdown cpu = ThreadCpu.between(cpuStart, cpuEnd);
            json.put("analyses_per_s", round(committed.analysesPerSecond(), 2));
            json.put("faces_per_s", round(committed.facesPerSecond(), 2));
            json.put("analyses_per_s_per_core", round(committed.analysesPerSecond() / Runtime.getRuntime().availableProcessors(), 2));
            json.put("analyses_in_window", committed.analyses());
            json.put("window_s", round(committed.seconds(), 2));
            json.put("commits_in_window", committed.batches());
            json.put("window_extended_s", round((measuredEnd - windowEnd) / 1e9, 2));
            json.put("read_uncommitted_analyses_per_s", round(uncommitted.analysesPerSecond(), 2));
            json.put("read_uncommitted_faces_per_s", round(uncommitted.facesPerSecond(), 2));
            json.put("failed_analyses", failed);
            json.put("replayed_results", run.replayedResults());
            json.put("checkpoint_interval_ms", config.checkpointInterval().toMillis());
            ArrayNode series = json.putArray("read_uncommitted_results_per_second_from_warmup");
            Arrays.stream(WindowRate.perSecond(run.uncommitted().values(), seriesStart, seriesSeconds)).forEach(series::add);
            json.put("in_flight", inFlight);
            json.put("process_cpu_cores", round(cpu.processCpuSeconds() / cpu.wallSeconds(), 2));
            ObjectNode roles = json.putObject("cpu_cores_by_role");
            cpu.cpuSecondsByRole().forEach((role, s) -> roles.put(role, round(s / cpu.wallSeconds(), 3)));
            ObjectNode top = json.putObject("cpu_cores_top_threads");
            cpu.topThreads().forEach(e -> top.put(e.getKey(), round(e.getValue() / cpu.wallSeconds(), 3)));
            json.put("other_processes_cpu_cores", round(cpu.otherProcessesCores(), 2));
            json.put("gc_seconds_per_s", round(cpu.gcSeconds() / cpu.wallSeconds(), 3));
            json.put("jit_seconds_per_s", round(cpu.jitSeconds() / cpu.wallSeconds(), 3));
            json.put("load_average", loadAtEnd);
            report.printf(Locale.ROOT, "pipeline         %.2f analyses/s, %.1f faces/s (read_committed, %d analyses in "
                    + "%.1f s, %d commits; checkpoints every %d ms; %d in flight; after %.0f s warm-up); read_uncommitted "
                    + "%.2f analyses/s; failed %d; replayed %d (job restarts); load average %s%n", committed.analysesPerSecond(),
                    committed.facesPerSecond(), committed.analyses(), committed.seconds(), committed.batches(),
                    config.checkpointInterval().toMillis(), inFlight, (windowStart - runStart) / 1e9,
                    uncommitted.analysesPerSecond(), failed,
                    run.replayedResults(), loadAtEnd);
            report.printf(Locale.ROOT, "pipeline CPU     %.2f cores busy of %d (other processes %.2f):%n",
                    cpu.processCpuSeconds() / cpu.wallSeconds(), Runtime.getRuntime().availableProcessors(),
                    cpu.otherProcessesCores());
            cpu.cpuSecondsByRole().forEach((role, s) -> {
                if (s > 0) {
                    report.printf(Locale.ROOT, "                   %5.3f  %s%n", s / cpu.wallSeconds(), role);
                }
            });
            report.printf(Locale.ROOT, "                 (GC pauses %.3f s/s, JIT compilation %.3f s/s of the window)%n",
                    cpu.gcSeconds() / cpu.wallSeconds(), cpu.jitSeconds() / cpu.wallSeconds());
        }
    }

    private static void latencyPhase(EmbeddedKafkaBroker broker, Map<String, String> jobOptions, Duration checkpoint,
            PipelineRun.Tuning tuning, BenchImages images, double rate, double seconds, double warmup, ObjectNode json,
            PrintStream report, PrintStream err) throws Exception {
        if (!(rate > 0)) {
            throw new IllegalStateException("no rate for the latency run (throughput run gave " + rate + ")");
        }
        JobConfig config = runConfig(jobOptions, broker.bootstrapServers(), "latency", checkpoint, images);
        createTopics(broker, config);
        err.printf(Locale.ROOT, "bench: latency run: job with checkpoints every %d ms, paced at %.2f analyses/s%n",
                checkpoint.toMillis(), rate);
        try (PipelineRun run = PipelineRun.start(config, tuning, images, err)) {
            run.awaitReady(2 * config.parallelism(), Duration.ofMinutes(3));
            List<String> measured = new ArrayList<>();
            long start = System.nanoTime();
            long windowStart = start + (long) (warmup * 1e9);
            long windowEnd = windowStart + (long) (seconds * 1e9);
            long intervalNanos = (long) (1e9 / rate);
            ThreadCpu.Snapshot cpuStart = null;
            for (long i = 0; ; i++) {
                long due = start + i * intervalNanos;
                if (due >= windowEnd) {
                    break;
                }
                sleepUntil(due);
                if (cpuStart == null && due >= windowStart) {
                    cpuStart = ThreadCpu.take();
                }
                String id = run.send();
                if (due >= windowStart) {
                    measured.add(id);
                }
            }
            ThreadCpu.Breakdown cpu = ThreadCpu.between(cpuStart != null ? cpuStart : ThreadCpu.take(), ThreadCpu.take());
            run.flush();
            boolean complete = run.awaitCommitted(measured, Duration.ofSeconds(60));
            Thread.sleep(200); // the read_uncommitted consumer saw them earlier; let it finish its poll
            double achieved = (measured.size() - 1) / (seconds);
            double[] committedMs = latencies(run, measured, run.committed());
            double[] uncommittedMs = latencies(run, measured, run.uncommitted());
            json.put("target_analyses_per_s", round(rate, 2));
            json.put("produced_analyses_per_s", round(achieved, 2));
            json.put("analyses", measured.size());
            json.put("missing_results", measured.size() - committedMs.length);
            json.put("complete", complete);
            json.put("replayed_results", run.replayedResults());
            json.put("checkpoint_interval_ms", checkpoint.toMillis());
            json.set("read_committed_ms", percentiles(committedMs));
            json.set("read_uncommitted_ms", percentiles(uncommittedMs));
            ArrayNode trend = json.putArray("read_committed_p50_ms_by_5s");
            for (int from = 0; from < measured.size(); from += Math.max(1, (int) Math.round(5 * rate))) {
                List<String> slice = measured.subList(from, Math.min(measured.size(), from + Math.max(1, (int) Math.round(5 * rate))));
                trend.add(round(pct(latencies(run, slice, run.committed()), 50), 0));
            }
            json.put("commit_gap_ms_median", round(medianCommitGapMillis(run, measured), 1));
            json.put("process_cpu_cores", round(cpu.processCpuSeconds() / cpu.wallSeconds(), 2));
            json.put("other_processes_cpu_cores", round(cpu.otherProcessesCores(), 2));
            ObjectNode roles = json.putObject("cpu_cores_by_role");
            cpu.cpuSecondsByRole().forEach((role, s) -> roles.put(role, round(s / cpu.wallSeconds(), 3)));
            ObjectNode top = json.putObject("cpu_cores_top_threads");
            cpu.topThreads().forEach(e -> top.put(e.getKey(), round(e.getValue() / cpu.wallSeconds(), 3)));
            json.put("load_average", loadAverage());
            report.printf(Locale.ROOT, "latency          at %.2f analyses/s (%d analyses, checkpoints every %d ms): "
                    + "read_committed p50 %.0f ms, p95 %.0f ms, p99 %.0f ms, max %.0f ms; commits seen every %.0f ms (median)%n",
                    rate, measured.size(), checkpoint.toMillis(), pct(committedMs, 50), pct(committedMs, 95),
                    pct(committedMs, 99), pct(committedMs, 100), medianCommitGapMillis(run, measured));
            report.printf(Locale.ROOT, "                 read_uncommitted (the pipeline alone, before the commit): "
                    + "p50 %.0f ms, p95 %.0f ms, p99 %.0f ms, max %.0f ms; missing %d; CPU %.2f cores (other processes "
                    + "%.2f); load average %s%n",
                    pct(uncommittedMs, 50), pct(uncommittedMs, 95), pct(uncommittedMs, 99), pct(uncommittedMs, 100),
                    measured.size() - committedMs.length, cpu.processCpuSeconds() / cpu.wallSeconds(),
                    cpu.otherProcessesCores(), loadAverage());
            StringBuilder roleText = new StringBuilder();
            cpu.cpuSecondsByRole().forEach((role, s) -> {
                if (s / cpu.wallSeconds() >= 0.005) {
                    roleText.append(String.format(Locale.ROOT, "%s%.2f %s", roleText.length() == 0 ? "" : ", ",
                            s / cpu.wallSeconds(), role));
                }
            });
            report.printf(Locale.ROOT, "                 CPU cores by role: %s%n", roleText);
        }
    }

    private static void summary(ObjectNode json, PrintStream report, int cores, double raw, double analysesPerSecond,
            double pipelineFaces, double p99) {
        ObjectNode targets = json.putObject("targets");
        double ratio = pipelineFaces / raw;
        if (!Double.isNaN(ratio)) {
            json.put("ratio_pipeline_to_raw_faces", round(ratio, 3));
            report.printf(Locale.ROOT, "ratio            pipeline faces/s / raw faces/s = %.1f / %.1f = %.3f%n",
                    pipelineFaces, raw, ratio);
        }
        target(targets, "pipeline_faces_over_raw", ratio, TARGET_RATIO, true);
        target(targets, "analyses_per_s_per_core", analysesPerSecond / cores, TARGET_ANALYSES_PER_CORE, true);
        target(targets, "p99_latency_ms_at_half_load", p99, TARGET_P99_MS, false);
        report.printf(Locale.ROOT, "targets          pipeline/raw %s (>= %.2f); analyses/s per core %s (>= %.0f); "
                + "p99 at %s load %s ms (<= %.0f)%n",
                fmt(ratio, 3), TARGET_RATIO, fmt(analysesPerSecond / cores, 2), TARGET_ANALYSES_PER_CORE,
                json.path("settings").path("load_fraction").asText(), fmt(p99, 0), TARGET_P99_MS);
    }

    private static void target(ObjectNode targets, String name, double value, double target, boolean atLeast) {
        ObjectNode t = targets.putObject(name);
        t.put("target", target);
        if (Double.isNaN(value)) {
            t.putNull("value");
            t.putNull("met");
        } else {
            t.put("value", round(value, 3));
            t.put("met", atLeast ? value >= target : value <= target);
        }
    }

    /**
     * Rate of final results read over a window. Results read within {@code groupGap} of each other form one group
     * (under exactly-once, one checkpoint's commits by every sink subtask); the rate counts the groups after the
     * first up to the last, over the time from the first group to the last, so it is exact between two commits.
     */
    record WindowRate(long analyses, long faces, double seconds, int batches) {

        static WindowRate of(Collection<PipelineRun.Arrival> arrivals, long windowStart, long windowEnd, long groupGapNanos) {
            List<PipelineRun.Arrival> inside = arrivals.stream()
                    .filter(a -> a.nanos() >= windowStart && a.nanos() <= windowEnd)
                    .sorted(java.util.Comparator.comparingLong(PipelineRun.Arrival::nanos)).toList();
            if (inside.isEmpty()) {
                return new WindowRate(0, 0, 0, 0);
            }
            long firstGroup = inside.get(0).nanos();
            long groupStart = firstGroup;
            long previous = firstGroup;
            long lastGroup = firstGroup;
            long analyses = 0;
            long faces = 0;
            int groups = 1;
            boolean inFirstGroup = true;
            for (PipelineRun.Arrival a : inside) {
                if (a.nanos() - previous > groupGapNanos) {
                    groupStart = a.nanos();
                    groups++;
                    inFirstGroup = false;
                }
                previous = a.nanos();
                if (!inFirstGroup) { // the first group is the start line, not counted
                    analyses++;
                    faces += a.faces();
                    lastGroup = groupStart;
                }
            }
            return new WindowRate(analyses, faces, (lastGroup - firstGroup) / 1e9, groups - 1);
        }

        /** Final results read in each second from {@code from}, for {@code seconds} seconds. */
        static int[] perSecond(Collection<PipelineRun.Arrival> arrivals, long from, int seconds) {
            int[] bins = new int[seconds];
            for (PipelineRun.Arrival a : arrivals) {
                long bin = Math.floorDiv(a.nanos() - from, 1_000_000_000L);
                if (bin >= 0 && bin < seconds) {
                    bins[(int) bin]++;
                }
            }
            return bins;
        }

        double analysesPerSecond() {
            return seconds > 0 ? analyses / seconds : 0;
        }

        double facesPerSecond() {
            return seconds > 0 ? faces / seconds : 0;
        }
    }

    private static double[] latencies(PipelineRun run, List<String> ids, Map<String, PipelineRun.Arrival> arrivals) {
        return ids.stream().filter(arrivals::containsKey)
                .mapToDouble(id -> (arrivals.get(id).nanos() - run.producedAt().get(id)) / 1e6).sorted().toArray();
    }

    private static double medianCommitGapMillis(PipelineRun run, List<String> ids) {
        long[] times = ids.stream().filter(run.committed()::containsKey).mapToLong(id -> run.committed().get(id).nanos())
                .sorted().distinct().toArray();
        List<Double> gaps = new ArrayList<>();
        for (int i = 1; i < times.length; i++) {
            if (times[i] - times[i - 1] > 5_000_000L) {
                gaps.add((times[i] - times[i - 1]) / 1e6);
            }
        }
        if (gaps.isEmpty()) {
            return Double.NaN;
        }
        double[] sorted = gaps.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return pct(sorted, 50);
    }

    private static ObjectNode percentiles(double[] sortedMs) {
        ObjectNode p = Json.mapper().createObjectNode();
        p.put("count", sortedMs.length);
        for (int q : new int[] {50, 95, 99}) {
            p.put("p" + q, round(pct(sortedMs, q), 1));
        }
        p.put("max", round(pct(sortedMs, 100), 1));
        p.put("mean", round(Arrays.stream(sortedMs).average().orElse(Double.NaN), 1));
        return p;
    }

    /** Nearest-rank percentile of sorted values; NaN for none. */
    static double pct(double[] sorted, double q) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(q / 100.0 * sorted.length);
        return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
    }

    private static void sleepUntil(long nanoTime) {
        long remaining;
        while ((remaining = nanoTime - System.nanoTime()) > 0) {
            LockSupport.parkNanos(remaining);
        }
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

    static String loadAverage() {
        try {
            String[] parts = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return parts[0] + " " + parts[1] + " " + parts[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    /** Rounds for display; NaN stays NaN (written as JSON null by {@link #nanToNull}). */
    private static double round(double v, int digits) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return v;
        }
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }

    /** Figures that could not be measured (NaN) become JSON null, so the output stays valid JSON. */
    static void nanToNull(com.fasterxml.jackson.databind.JsonNode node) {
        if (node instanceof ObjectNode object) {
            List<String> names = new ArrayList<>();
            object.fieldNames().forEachRemaining(names::add);
            for (String name : names) {
                com.fasterxml.jackson.databind.JsonNode child = object.get(name);
                if (child.isNumber() && Double.isNaN(child.asDouble())) {
                    object.putNull(name);
                } else {
                    nanToNull(child);
                }
            }
        }
    }

    private static String fmt(double v, int digits) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%." + digits + "f", v);
    }
}
