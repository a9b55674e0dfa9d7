package dev.biometry.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.biometry.api.Json;
import dev.biometry.api.RequestLines;
import dev.biometry.config.JobConfig;
import dev.biometry.pipeline.BatchEndpoints;
import dev.biometry.pipeline.BiometryJob;
import dev.biometry.pipeline.PipelineMetrics;
import dev.biometry.pipeline.RequestLinesFormat;
import dev.biometry.report.BatchReport;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * {@code batch --input requests.jsonl --output results.jsonl [--report report.html] [job options]}, or
 * {@code batch --from-kafka TOPIC --until latest --bootstrap-servers H:P --output ...}: the same topology in Flink
 * BATCH mode over a bounded input, writing one final analysis object per request line (JSON lines), invalid lines
 * to {@code <output>.dead-letters.jsonl}, progress (done / total, rate, ETA) on stderr, and an HTML report.
 * Paths may be any Flink file system path (shared or object store) when submitted with {@code flink run}.
 */
final class BatchCommand {

    private BatchCommand() {}

    static int run(CommandArgs args, PrintStream out, PrintStream err) throws Exception {
        String input = args.option("input");
        String topic = args.option("from-kafka");
        String output = args.option("output");
        if (output == null || (input == null) == (topic == null)) {
            throw new UsageException("batch needs --output FILE and either --input FILE or --from-kafka TOPIC");
        }
        if (topic != null && !"latest".equals(args.option("until", "latest"))) {
            throw new UsageException("--until supports only 'latest' (the end offsets when the run starts)");
        }
        Map<String, String> defaults = new HashMap<>();
        String baseDir = args.option("base-dir", input == null ? "." : RequestLinesFormat.baseDirOf(input));
        boolean localBase = RequestLinesFormat.isLocal(baseDir);
        if (localBase) {
            baseDir = java.nio.file.Path.of(new Path(baseDir).toUri().getPath())
                    .toAbsolutePath()
                    .normalize()
                    .toString();
        }
        String workingDir = java.nio.file.Path.of("").toAbsolutePath().toString();
        // Media roots are local folders: media next to an input on another file system are not read from there.
        defaults.put("media-roots", localBase ? String.join(",", workingDir, baseDir) : workingDir);
        defaults.put("models", ModelsLocator.locate(args.option("models")).toString());
        JobConfig config = RunCommand.jobConfig(args, defaults);

        long total = input == null ? -1 : countAnalyses(input);
        String partsDir = output + ".parts";
        FileSystem fs = new Path(output).getFileSystem();
        fs.delete(new Path(partsDir), true);

        StreamExecutionEnvironment env = batchEnvironment(config);
        BiometryJob.build(
                env,
                config,
                input != null
                        ? BatchEndpoints.fromFile(input, baseDir, partsDir)
                        : BatchEndpoints.fromKafka(config, topic, partsDir));

        long t0 = System.nanoTime();
        JobClient job = env.executeAsync("biometry batch");
        var execution = job.getJobExecutionResult();
        while (!execution.isDone()) {
            Thread.sleep(2000);
            printProgress(job, total, (System.nanoTime() - t0) / 1e9, err);
        }
        JobExecutionResult finished = execution.get();
        double seconds = (System.nanoTime() - t0) / 1e9;
        Object done = finished.getAccumulatorResult(PipelineMetrics.PROGRESS_ACCUMULATOR);
        err.println(progressLine(done instanceof Number n ? n.doubleValue() : 0, total, seconds));

        List<String> resultLines = mergeParts(fs, new Path(partsDir, "results"), new Path(output));
        List<String> deadLines =
                mergeParts(fs, new Path(partsDir, "dead-letters"), new Path(output + ".dead-letters.jsonl"));
        if (deadLines.isEmpty()) {
            fs.delete(new Path(output + ".dead-letters.jsonl"), false);
        }
        fs.delete(new Path(partsDir), true);
        err.printf(
                Locale.ROOT,
                "batch: %d results written to %s in %.1f s (%.2f analyses/s)%s%n",
                resultLines.size(),
                output,
                seconds,
                resultLines.size() / seconds,
                deadLines.isEmpty()
                        ? ""
                        : "; " + deadLines.size() + " invalid lines in " + output + ".dead-letters.jsonl");

        String report = args.option("report");
        if (report != null) {
            List<JsonNode> results = new ArrayList<>();
            for (String line : resultLines) {
                results.add(Json.mapper().readTree(line));
            }
            String html = BatchReport.html(
                    results,
                    new BatchReport.RunInfo(
                            input != null ? input : "topic " + topic,
                            total < 0 ? results.size() + deadLines.size() : total,
                            deadLines.size(),
                            seconds,
                            Runtime.getRuntime().availableProcessors() + " cores, " + Machine.cpuModel(),
                            config.defaultThreshold()));
            try (OutputStream o =
                    new Path(report).getFileSystem().create(new Path(report), FileSystem.WriteMode.OVERWRITE)) {
                o.write(html.getBytes(StandardCharsets.UTF_8));
            }
            err.println("batch: report written to " + report);
        }
        return 0;
    }

    /**
     * The environment of a batch run: Flink's BATCH runtime mode (no checkpointing: a failed task runs again from
     * its inputs), the job's parallelism and restart strategy.
     */
    static StreamExecutionEnvironment batchEnvironment(JobConfig config) {
        Configuration conf = new Configuration();
        conf.set(ExecutionOptions.RUNTIME_MODE, RuntimeExecutionMode.BATCH);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        BiometryJob.configure(env, config); // in BATCH mode: parallelism and the restart strategy only
        return env;
    }

    /**
     * Analyses asked for by the input file's lines (lines that do not parse count one each, as dead letters; the
     * requests parser counts rejected lines as done the same way, {@link RequestLines#analysesCounted}).
     */
    static long countAnalyses(String input) throws IOException {
        long total = 0;
        Path path = new Path(input);
        try (BufferedReader reader =
                new BufferedReader(new InputStreamReader(path.getFileSystem().open(path), StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                String t = line.trim();
                if (!t.isEmpty() && !t.startsWith("#")) {
                    total += RequestLines.analysesCounted(t);
                }
            }
        }
        return total;
    }

    private static void printProgress(JobClient job, long total, double seconds, PrintStream err) {
        double done;
        try {
            Object value = job.getAccumulators().get().get(PipelineMetrics.PROGRESS_ACCUMULATOR);
            done = value instanceof Number n ? n.doubleValue() : 0;
        } catch (Exception e) {
            return; // the job has just finished and its local cluster is gone: nothing more to report
        }
        err.println(progressLine(done, total, seconds));
    }

    /**
     * {@code batch: 120 / 201 analyses embedded, 7.50/s, ETA 11 s} ({@code ETA ?} before the first is done), or
     * without a known total ({@code --from-kafka}) {@code batch: 120 analyses embedded, 7.50/s}.
     */
    static String progressLine(double done, long total, double seconds) {
        double rate = done / Math.max(seconds, 1e-9);
        if (total > 0) {
            double eta = rate > 0 ? Math.max(0, total - done) / rate : Double.NaN;
            return String.format(
                    Locale.ROOT,
                    "batch: %.0f / %d analyses embedded, %.2f/s, ETA %s",
                    done,
                    total,
                    rate,
                    Double.isNaN(eta) ? "?" : String.format(Locale.ROOT, "%.0f s", eta));
        }
        return String.format(Locale.ROOT, "batch: %.0f analyses embedded, %.2f/s", done, rate);
    }

    /** Concatenates the part files under {@code dir} into {@code target}; returns the lines written. */
    private static List<String> mergeParts(FileSystem fs, Path dir, Path target) throws IOException {
        List<String> lines = new ArrayList<>();
        if (fs.exists(dir)) {
            List<FileStatus> parts = new ArrayList<>();
            for (FileStatus s : fs.listStatus(dir)) {
                if (!s.isDir() && !s.getPath().getName().startsWith(".")) {
                    parts.add(s);
                }
            }
            parts.sort((a, b) -> a.getPath().getName().compareTo(b.getPath().getName()));
            for (FileStatus part : parts) {
                try (BufferedReader reader =
                        new BufferedReader(new InputStreamReader(fs.open(part.getPath()), StandardCharsets.UTF_8))) {
                    reader.lines().filter(l -> !l.isBlank()).forEach(lines::add);
                }
            }
        }
        try (OutputStream o = fs.create(target, FileSystem.WriteMode.OVERWRITE)) {
            for (String line : lines) {
                o.write(line.getBytes(StandardCharsets.UTF_8));
                o.write('\n');
            }
        }
        return lines;
    }
}
