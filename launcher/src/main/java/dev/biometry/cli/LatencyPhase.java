package dev.biometry.cli;

import static dev.biometry.cli.BenchFigures.pct;
import static dev.biometry.cli.BenchFigures.percentiles;
import static dev.biometry.cli.BenchFigures.round;
import static dev.biometry.cli.BenchFigures.sleepUntil;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.biometry.config.JobConfig;
import dev.biometry.local.EmbeddedKafkaBroker;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The benchmark's third phase: the job again (short checkpoint interval) fed at a fixed rate by a paced producer;
 * request-to-result latency percentiles, read_committed (what clients see) and read_uncommitted (the pipeline).
 */
final class LatencyPhase {

    private LatencyPhase() {}

    /**
     * Runs the phase at {@code rate} analyses/s as {@code variant} says and writes its figures into {@code json} and its
     * report lines.
     */
    static void run(
            EmbeddedKafkaBroker broker,
            BenchSettings settings,
            BenchSettings.LatencyVariant variant,
            BenchImages images,
            double rate,
            ObjectNode json,
            PrintStream report,
            PrintStream err)
            throws Exception {
        if (!(rate > 0)) {
            throw new IllegalStateException("no rate for the latency run (throughput run gave " + rate + ")");
        }
        double seconds = settings.seconds();
        Duration checkpoint = variant.checkpoint();
        JobConfig config = PipelineRun.prepare(broker, settings.jobOptions(), "latency", variant.jobOptions(), images);
        err.printf(Locale.ROOT, "bench: latency run: job with %s, paced at %.2f analyses/s%n", variant.label(), rate);
        try (PipelineRun run =
                PipelineRun.start(config, settings.objectReuse(), images, PipelineRun.ResultReads.TIMED, err)) {
            run.awaitReady(2 * config.parallelism(), Duration.ofMinutes(3));
            // A paced producer from the start; the measured window opens after the warm-up, once the JIT compilers
            // have settled on this run's code paths (at most --max-warmup): the first run after the throughput
            // phase otherwise measured the compilers (half a core) instead of the job.
            List<String> measured = Collections.synchronizedList(new ArrayList<>());
            long start = System.nanoTime();
            long intervalNanos = (long) (1e9 / rate);
            AtomicLong windowStart = new AtomicLong(Long.MAX_VALUE);
            AtomicLong windowEnd = new AtomicLong(Long.MAX_VALUE);
            AtomicReference<Exception> failure = new AtomicReference<>();
            Thread pacer = new Thread(
                    () -> {
                        try {
                            for (long i = 0; ; i++) {
                                long due = start + i * intervalNanos;
                                if (due >= windowEnd.get()) {
                                    break;
                                }
                                sleepUntil(due);
                                String id = run.send();
                                if (due >= windowStart.get()) {
                                    measured.add(id);
                                }
                            }
                        } catch (Exception e) {
                            failure.set(e);
                        }
                    },
                    "bench-paced-producer");
            pacer.start();
            sleepUntil(start + (long) (settings.warmup() * 1e9));
            // Every variant waits for the JIT as the throughput run does: the exactly-once path at a short checkpoint
            // interval runs code the throughput run hardly did (checkpoints, transactions) that C2 compiles for
            // minutes on 2 cores, and the first minute of a job is not its steady state.
            double jitRate = JitWarmup.awaitQuietCompiler(start + (long) (settings.maxWarmup() * 1e9), err);
            long opened = System.nanoTime();
            ThreadCpu.Snapshot cpuStart = ThreadCpu.take();
            windowStart.set(opened);
            windowEnd.set(opened + (long) (seconds * 1e9));
            sleepUntil(opened + (long) (seconds * 1e9));
            ThreadCpu.Breakdown cpu = ThreadCpu.between(cpuStart, ThreadCpu.take());
            pacer.join();
            if (failure.get() != null) {
                throw failure.get();
            }
            json.put("warmup_s", round((opened - start) / 1e9, 1));
            json.put("jit_seconds_per_s_before_window", round(jitRate, 3));
            run.flush();
            boolean complete = run.awaitCommitted(measured, Duration.ofSeconds(60));
            // The read_uncommitted consumer saw them earlier: let it finish its poll, and the REST API refresh its
            // metrics (every 500 ms, PipelineRun) so that the stages' figures include the last analyses.
            Thread.sleep(700);
            StageBreakdown breakdown = new StageBreakdown(run.restUrl(), run.jobId());
            List<StageBreakdown.Stage> stages = breakdown.stages();
            StageBreakdown.Checkpoints checkpoints = breakdown.checkpoints();
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
            json.put("buffer_timeout_ms", variant.bufferTimeout().toMillis());
            json.put("delivery_guarantee", variant.guarantee().toString());
            json.set("read_committed_ms", percentiles(committedMs));
            json.set("read_uncommitted_ms", percentiles(uncommittedMs));
            ArrayNode trend = json.putArray("read_committed_p50_ms_by_5s");
            for (int from = 0; from < measured.size(); from += Math.max(1, (int) Math.round(5 * rate))) {
                List<String> slice = measured.subList(
                        from, Math.min(measured.size(), from + Math.max(1, (int) Math.round(5 * rate))));
                trend.add(round(pct(latencies(run, slice, run.committed()), 50), 0));
            }
            json.put("commit_gap_ms_median", round(medianCommitGapMillis(run, measured), 1));
            json.put("process_cpu_cores", round(cpu.processCpuSeconds() / cpu.wallSeconds(), 2));
            json.put("other_processes_cpu_cores", round(cpu.otherProcessesCores(), 2));
            ObjectNode roles = json.putObject("cpu_cores_by_role");
            cpu.cpuSecondsByRole().forEach((role, s) -> roles.put(role, round(s / cpu.wallSeconds(), 3)));
            ObjectNode top = json.putObject("cpu_cores_top_threads");
            cpu.topThreads().forEach(e -> top.put(e.getKey(), round(e.getValue() / cpu.wallSeconds(), 3)));
            json.put("load_average", Machine.loadAverage());
            StageBreakdown.write(stages, checkpoints, json);
            report.printf(
                    Locale.ROOT,
                    "latency          at %.2f analyses/s (%d analyses, %s; after %.0f s warm-up, JIT at %.2f s/s): "
                            + "read_committed p50 %.0f ms, p95 %.0f ms, p99 %.0f ms, max %.0f ms; commits seen every %.0f ms (median)%n",
                    rate,
                    measured.size(),
                    variant.label(),
                    (opened - start) / 1e9,
                    jitRate,
                    pct(committedMs, 50),
                    pct(committedMs, 95),
                    pct(committedMs, 99),
                    pct(committedMs, 100),
                    medianCommitGapMillis(run, measured));
            report.printf(
                    Locale.ROOT,
                    "                 read_uncommitted (the pipeline alone, before the commit): "
                            + "p50 %.0f ms, p95 %.0f ms, p99 %.0f ms, max %.0f ms; missing %d; CPU %.2f cores (other processes "
                            + "%.2f); load average %s%n",
                    pct(uncommittedMs, 50),
                    pct(uncommittedMs, 95),
                    pct(uncommittedMs, 99),
                    pct(uncommittedMs, 100),
                    measured.size() - committedMs.length,
                    cpu.processCpuSeconds() / cpu.wallSeconds(),
                    cpu.otherProcessesCores(),
                    Machine.loadAverage());
            StringBuilder roleText = new StringBuilder();
            cpu.cpuSecondsByRole().forEach((role, s) -> {
                if (s / cpu.wallSeconds() >= 0.005) {
                    roleText.append(String.format(
                            Locale.ROOT, "%s%.2f %s", roleText.length() == 0 ? "" : ", ", s / cpu.wallSeconds(), role));
                }
            });
            report.printf(Locale.ROOT, "                 CPU cores by role: %s%n", roleText);
            StringBuilder way = new StringBuilder();
            for (StageBreakdown.Stage stage : stages) {
                way.append(
                        String.format(Locale.ROOT, "%s %.0f / %.0f, ", stage.label(), stage.medianMs(), stage.p99Ms()));
            }
            report.printf(
                    Locale.ROOT,
                    "                 where the time goes (ms since the request was written, median / p99): %s"
                            + "read_uncommitted %.0f / %.0f, read_committed %.0f / %.0f%n",
                    way,
                    pct(uncommittedMs, 50),
                    pct(uncommittedMs, 99),
                    pct(committedMs, 50),
                    pct(committedMs, 99));
            report.printf(
                    Locale.ROOT,
                    "                 checkpoints: %d completed, %d failed, end to end median %.0f ms, p99 %.0f ms, "
                            + "max %.0f ms; %.1f KB checkpointed on average%n",
                    checkpoints.completed(),
                    checkpoints.failed(),
                    checkpoints.medianMs(),
                    checkpoints.p99Ms(),
                    checkpoints.maxMs(),
                    checkpoints.avgBytes() / 1024);
            StringBuilder states = new StringBuilder();
            checkpoints.latestBytesByTask().entrySet().stream()
                    .limit(3)
                    .forEach(e -> states.append(String.format(
                            Locale.ROOT,
                            "%s%s %.0f KB",
                            states.length() == 0 ? "" : ", ",
                            e.getKey(),
                            e.getValue() / 1024.0)));
            report.printf(Locale.ROOT, "                 largest state in the latest checkpoint: %s%n", states);
        }
    }

    /** Milliseconds from production to arrival of each of {@code ids} that arrived, sorted. */
    private static double[] latencies(PipelineRun run, List<String> ids, Map<String, PipelineRun.Arrival> arrivals) {
        return ids.stream()
                .filter(arrivals::containsKey)
                .mapToDouble(id -> (arrivals.get(id).nanos() - run.producedAt().get(id)) / 1e6)
                .sorted()
                .toArray();
    }

    /** The median time between two commits seen by the read_committed consumer; NaN when fewer than two. */
    private static double medianCommitGapMillis(PipelineRun run, List<String> ids) {
        long[] times = ids.stream()
                .filter(run.committed()::containsKey)
                .mapToLong(id -> run.committed().get(id).nanos())
                .sorted()
                .distinct()
                .toArray();
        List<Double> gaps = new ArrayList<>();
        for (int i = 1; i < times.length; i++) {
            if (times[i] - times[i - 1] > 5_000_000L) {
                gaps.add((times[i] - times[i - 1]) / 1e6);
            }
        }
        if (gaps.isEmpty()) {
            return Double.NaN;
        }
        double[] sorted =
                gaps.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return pct(sorted, 50);
    }
}
