package dev.biometry.cli;

import static dev.biometry.cli.BenchFigures.round;
import static dev.biometry.cli.BenchFigures.sleepUntil;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.biometry.config.JobConfig;
import dev.biometry.local.EmbeddedKafkaBroker;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The benchmark's second phase: the job (in-process Kafka, Flink, exactly-once sinks, checkpointing) at maximum
 * rate, fed by a closed loop that keeps a fixed number of two-photo analyses in flight; analyses/s and faces/s
 * read with read_committed over a steady window that opens once the JIT compilers have settled.
 */
final class ThroughputPhase {

    /** The embed-faces counters of its face work: CPU microseconds in the face engine, and the media it ran on. */
    private static final List<String> FACE_WORK_COUNTERS = List.of("faceWorkCpuMicros", "mediaEmbedded");

    private ThroughputPhase() {}

    /** What a variant of {@code --throughput-variants} sets, for the report: its options, or the bench's options. */
    static String label(Map<String, String> variant) {
        if (variant.isEmpty()) {
            return "job options as given";
        }
        StringBuilder label = new StringBuilder();
        new TreeMap<>(variant)
                .forEach((k, v) -> label.append(label.length() == 0 ? "" : ", ")
                        .append(k)
                        .append(' ')
                        .append(v));
        return label.toString();
    }

    /** Runs the phase and writes its figures into {@code json} and its report lines. */
    static void run(
            EmbeddedKafkaBroker broker,
            BenchSettings settings,
            Map<String, String> variant,
            BenchImages images,
            ObjectNode json,
            PrintStream report,
            PrintStream err)
            throws Exception {
        double seconds = settings.seconds();
        double warmup = settings.warmup();
        int inFlight = settings.inFlight();
        Map<String, String> overrides = new HashMap<>();
        overrides.put(
                "checkpoint-interval", settings.base().checkpointInterval().toMillis() + "ms");
        overrides.putAll(variant);
        JobConfig config = PipelineRun.prepare(broker, settings.jobOptions(), "throughput", overrides, images);
        json.put("variant", label(variant));
        err.printf(
                Locale.ROOT,
                "bench: throughput run (%s): job with checkpoints every %d ms, %d analyses in flight%n",
                label(variant),
                config.checkpointInterval().toMillis(),
                inFlight);
        try (PipelineRun run =
                PipelineRun.start(config, settings.objectReuse(), images, PipelineRun.ResultReads.COUNTED, err)) {
            run.awaitReady(2 * config.parallelism(), Duration.ofMinutes(3));
            Semaphore permits = new Semaphore(inFlight);
            run.onUncommittedFinal(id -> permits.release());
            AtomicReference<Exception> failure = new AtomicReference<>();
            Thread producer = new Thread(
                    () -> {
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
                    },
                    "bench-producer");
            producer.start();
            long runStart = System.nanoTime();
            // The embed-faces tasks' own account of their face work (CPU in the face engine per media), read at
            // both ends of the window: what the same chain costs inside the job, beside the raw chain's cost. Read
            // once now as well, so that the JIT compiles the REST API's metric path during the warm-up, not in the
            // window.
            StageBreakdown metrics = new StageBreakdown(run.restUrl(), run.jobId());
            metrics.counterSums("embed-faces", FACE_WORK_COUNTERS);
            sleepUntil(runStart + (long) (warmup * 1e9));
            double jitRate = JitWarmup.awaitQuietCompiler(runStart + (long) (settings.maxWarmup() * 1e9), err);
            // The warm-up ends when the compilers have settled; the counters' read below is the window's setup.
            long warmedUp = System.nanoTime();
            // Read just outside the window (as the end one is), so that the REST API's work is not in its CPU figures.
            Map<String, Double> faceWorkStart = metrics.counterSums("embed-faces", FACE_WORK_COUNTERS);
            long windowStart = System.nanoTime();
            long windowEnd = windowStart + (long) (seconds * 1e9);
            json.put("warmup_s", round((warmedUp - runStart) / 1e9, 1));
            json.put("jit_seconds_per_s_before_window", round(jitRate, 3));
            ThreadCpu.Snapshot cpuStart = ThreadCpu.take();
            Map<String, Long> requestsStart = BrokerRequests.counts();
            sleepUntil(windowEnd);
            Map<String, Long> requestsEnd = BrokerRequests.counts();
            ThreadCpu.Snapshot cpuEnd = ThreadCpu.take();
            Map<String, Double> faceWorkEnd = metrics.counterSums("embed-faces", FACE_WORK_COUNTERS);
            String loadAtEnd = Machine.loadAverage();
            // Under exactly-once, results become readable in groups, one per completed checkpoint. When fewer than
            // three groups fell inside the window (slow checkpoints on a loaded machine), the window is extended,
            // still at full load, until they do (at most 10 s or 10 checkpoint intervals longer).
            long commitGroupGap =
                    Math.min(200_000_000L, config.checkpointInterval().toNanos() / 3);
            long measuredEnd = windowEnd;
            long extendLimit = windowEnd
                    + Math.max(10_000_000_000L, 10 * config.checkpointInterval().toNanos());
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
            long failed = run.committed().values().stream()
                    .filter(PipelineRun.Arrival::failed)
                    .count();
            ThreadCpu.Breakdown cpu = ThreadCpu.between(cpuStart, cpuEnd);
            json.put("analyses_per_s", round(committed.analysesPerSecond(), 2));
            json.put("faces_per_s", round(committed.facesPerSecond(), 2));
            json.put(
                    "analyses_per_s_per_core",
                    round(committed.analysesPerSecond() / Runtime.getRuntime().availableProcessors(), 2));
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
            Arrays.stream(WindowRate.perSecond(run.uncommitted().values(), seriesStart, seriesSeconds))
                    .forEach(series::add);
            double faceWorkMs = (faceWorkEnd.get("faceWorkCpuMicros") - faceWorkStart.get("faceWorkCpuMicros"))
                    / 1000
                    / (faceWorkEnd.get("mediaEmbedded") - faceWorkStart.get("mediaEmbedded"));
            if (!Double.isNaN(faceWorkMs) && !Double.isInfinite(faceWorkMs)) {
                json.put("embed_face_work_cpu_ms_per_media", round(faceWorkMs, 2));
            }
            json.put("in_flight", inFlight);
            json.put("process_cpu_cores", round(cpu.processCpuSeconds() / cpu.wallSeconds(), 2));
            ObjectNode roles = json.putObject("cpu_cores_by_role");
            cpu.cpuSecondsByRole().forEach((role, s) -> roles.put(role, round(s / cpu.wallSeconds(), 3)));
            ObjectNode top = json.putObject("cpu_cores_top_threads");
            cpu.topThreads().forEach(e -> top.put(e.getKey(), round(e.getValue() / cpu.wallSeconds(), 3)));
            json.put("other_processes_cpu_cores", round(cpu.otherProcessesCores(), 2));
            Map<String, Double> requestRates =
                    BrokerRequests.ratesBetween(requestsStart, requestsEnd, cpu.wallSeconds());
            ObjectNode requests = json.putObject("broker_requests_per_s");
            requestRates.forEach((type, rate) -> requests.put(type, round(rate, 1)));
            json.put("gc_seconds_per_s", round(cpu.gcSeconds() / cpu.wallSeconds(), 3));
            json.put("jit_seconds_per_s", round(cpu.jitSeconds() / cpu.wallSeconds(), 3));
            json.put("load_average", loadAtEnd);
            report.printf(
                    Locale.ROOT,
                    "pipeline         %.2f analyses/s, %.1f faces/s (read_committed, %d analyses in "
                            + "%.1f s, %d commits; checkpoints every %d ms; %d in flight; after %.0f s warm-up); read_uncommitted "
                            + "%.2f analyses/s; failed %d; replayed %d (job restarts); load average %s%n",
                    committed.analysesPerSecond(),
                    committed.facesPerSecond(),
                    committed.analyses(),
                    committed.seconds(),
                    committed.batches(),
                    config.checkpointInterval().toMillis(),
                    inFlight,
                    (warmedUp - runStart) / 1e9,
                    uncommitted.analysesPerSecond(),
                    failed,
                    run.replayedResults(),
                    loadAtEnd);
            report.printf(
                    Locale.ROOT,
                    "pipeline CPU     %.2f cores busy of %d (other processes %.2f):%n",
                    cpu.processCpuSeconds() / cpu.wallSeconds(),
                    Runtime.getRuntime().availableProcessors(),
                    cpu.otherProcessesCores());
            cpu.cpuSecondsByRole().forEach((role, s) -> {
                if (s > 0) {
                    report.printf(Locale.ROOT, "                   %5.3f  %s%n", s / cpu.wallSeconds(), role);
                }
            });
            report.printf(
                    Locale.ROOT,
                    "                 (GC pauses %.3f s/s, JIT compilation %.3f s/s of the window)%n",
                    cpu.gcSeconds() / cpu.wallSeconds(),
                    cpu.jitSeconds() / cpu.wallSeconds());
            StringBuilder line = new StringBuilder();
            requestRates.forEach((type, rate) -> line.append(line.length() == 0 ? "" : ", ")
                    .append(String.format(Locale.ROOT, "%s %.0f", type, rate)));
            report.printf(
                    Locale.ROOT,
                    "broker requests  %.0f/s: %s%n",
                    requestRates.values().stream()
                            .mapToDouble(Double::doubleValue)
                            .sum(),
                    line);
        }
    }
}
