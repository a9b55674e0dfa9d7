package dev.biometry.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.biometry.api.Json;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Where the time of an analysis goes, read from a running job's Flink REST API (what the dashboard shows): each
 * stage's {@code inputAgeMs} histogram (and the embed stage's {@code outputAgeMs}), milliseconds since the request
 * was written to Kafka, and the job's checkpoint statistics. A stage's figures are its subtasks' latest records: the
 * median averaged over subtasks, the p99 the largest subtask's.
 */
final class StageBreakdown {

    /** One point of the way: the operator, the metric, and what the point is called in the report. */
    private record Point(String operator, String metric, String label) {}

    /** The stages an analysis passes, in order (the operators' names in {@code BiometryJob}). */
    private static final List<Point> POINTS = List.of(
            new Point("parse-requests", "inputAgeMs", "parsed"),
            new Point("folder-join", "inputAgeMs", "joined"),
            new Point("claim-analysis", "inputAgeMs", "claimed"),
            new Point("embed-faces", "inputAgeMs", "embed start"),
            new Point("embed-faces", "outputAgeMs", "embedded"),
            new Point("match", "inputAgeMs", "matched"),
            new Point("order-results", "inputAgeMs", "ordered"));

    /** A stage's age figures in milliseconds. */
    record Stage(String label, String operator, double medianMs, double p99Ms) {}

    /**
     * The job's completed checkpoints: count, end-to-end duration median/p99/max (ms), average checkpointed size, and
     * the state size of each task (its vertex name) in the latest one, largest first.
     */
    record Checkpoints(
            long completed,
            long failed,
            double medianMs,
            double p99Ms,
            double maxMs,
            double avgBytes,
            Map<String, Long> latestBytesByTask) {}

    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String base;
    private final String jobId;

    StageBreakdown(String restUrl, String jobId) {
        this.base = restUrl;
        this.jobId = jobId;
    }

    /**
     * Each stage's figures, in the order an analysis passes them; a stage without figures is left out. The REST
     * API answers from its metric store and only then fetches fresh values from the tasks (at most every
     * {@code metrics.fetcher.update-interval}, 500 ms in {@link PipelineRun}): the answers to the first requests
     * after a quiet spell can be as old as the job's start, when no histogram had values. So a first read asks for
     * fresh values, and the figures are read a second later, again up to twice more until every stage has them.
     */
    List<Stage> stages() throws IOException, InterruptedException {
        readStages();
        List<Stage> stages;
        int attempt = 0;
        do {
            Thread.sleep(1_000);
            stages = readStages();
        } while (stages.size() < POINTS.size() && ++attempt < 3);
        return stages;
    }

    private List<Stage> readStages() throws IOException, InterruptedException {
        // Each vertex's metric names, read once: which vertex runs which operator.
        Map<String, Set<String>> metricsByVertex = new LinkedHashMap<>();
        for (JsonNode vertex : get("/jobs/" + jobId).path("vertices")) {
            String id = vertex.path("id").asText();
            Set<String> names = new HashSet<>();
            get("/jobs/" + jobId + "/vertices/" + id + "/subtasks/metrics")
                    .forEach(m -> names.add(m.path("id").asText()));
            metricsByVertex.put(id, names);
        }
        List<Stage> stages = new ArrayList<>();
        for (Point point : POINTS) {
            String median = point.operator() + "." + point.metric() + "_median";
            String p99 = point.operator() + "." + point.metric() + "_p99";
            for (Map.Entry<String, Set<String>> vertex : metricsByVertex.entrySet()) {
                if (!vertex.getValue().contains(median)) {
                    continue;
                }
                String id = vertex.getKey();
                JsonNode values = get("/jobs/" + jobId + "/vertices/" + id + "/subtasks/metrics?get="
                        + URLEncoder.encode(median + "," + p99, StandardCharsets.UTF_8) + "&agg=avg,max");
                double m = Double.NaN;
                double p = Double.NaN;
                for (JsonNode v : values) {
                    if (v.path("id").asText().equals(median)) {
                        m = v.path("avg").asDouble(Double.NaN);
                    } else if (v.path("id").asText().equals(p99)) {
                        p = v.path("max").asDouble(Double.NaN);
                    }
                }
                if (!Double.isNaN(m)) {
                    stages.add(new Stage(point.label(), point.operator(), m, p));
                }
                break;
            }
        }
        return stages;
    }

    /**
     * The sums over all subtasks of the counters {@code metrics} of {@code operator} (NaN for one no vertex has), as
     * fresh as the REST API gives them: asked for once, then read a second later (see {@link #stages()}).
     */
    Map<String, Double> counterSums(String operator, List<String> metrics) throws IOException, InterruptedException {
        readCounterSums(operator, metrics);
        Thread.sleep(1_000);
        return readCounterSums(operator, metrics);
    }

    private Map<String, Double> readCounterSums(String operator, List<String> metrics)
            throws IOException, InterruptedException {
        Map<String, Double> sums = new LinkedHashMap<>();
        metrics.forEach(m -> sums.put(m, Double.NaN));
        String ids = metrics.stream().map(m -> operator + "." + m).collect(Collectors.joining(","));
        for (JsonNode vertex : get("/jobs/" + jobId).path("vertices")) {
            String id = vertex.path("id").asText();
            JsonNode values = get("/jobs/" + jobId + "/vertices/" + id + "/subtasks/metrics?get="
                    + URLEncoder.encode(ids, StandardCharsets.UTF_8) + "&agg=sum");
            for (JsonNode v : values) {
                String metric = v.path("id").asText().substring(operator.length() + 1);
                sums.put(metric, v.path("sum").asDouble(Double.NaN));
            }
        }
        return sums;
    }

    /** The job's checkpoint statistics so far. */
    Checkpoints checkpoints() throws IOException, InterruptedException {
        JsonNode stats = get("/jobs/" + jobId + "/checkpoints");
        JsonNode e2e = stats.path("summary").path("end_to_end_duration");
        Map<String, Long> byTask = new LinkedHashMap<>();
        JsonNode latest = stats.path("latest").path("completed");
        if (latest.has("id")) {
            Map<String, String> names = new HashMap<>();
            for (JsonNode vertex : get("/jobs/" + jobId).path("vertices")) {
                names.put(vertex.path("id").asText(), vertex.path("name").asText());
            }
            JsonNode tasks = get("/jobs/" + jobId + "/checkpoints/details/"
                            + latest.path("id").asLong())
                    .path("tasks");
            List<Map.Entry<String, Long>> sizes = new ArrayList<>();
            tasks.fields()
                    .forEachRemaining(t -> sizes.add(Map.entry(
                            names.getOrDefault(t.getKey(), t.getKey()),
                            t.getValue().path("state_size").asLong())));
            sizes.sort(Map.Entry.<String, Long>comparingByValue().reversed());
            sizes.forEach(e -> byTask.put(e.getKey(), e.getValue()));
        }
        return new Checkpoints(
                stats.path("counts").path("completed").asLong(),
                stats.path("counts").path("failed").asLong(),
                e2e.path("p50").asDouble(Double.NaN),
                e2e.path("p99").asDouble(Double.NaN),
                e2e.path("max").asDouble(Double.NaN),
                stats.path("summary").path("checkpointed_size").path("avg").asDouble(Double.NaN),
                byTask);
    }

    /** Writes {@code stages} and {@code checkpoints} into {@code json}. */
    static void write(List<Stage> stages, Checkpoints checkpoints, ObjectNode json) {
        ArrayNode array = json.putArray("stages_ms_since_request");
        for (Stage s : stages) {
            ObjectNode o = array.addObject();
            o.put("stage", s.label());
            o.put("operator", s.operator());
            o.put("median", BenchFigures.round(s.medianMs(), 1));
            o.put("p99", BenchFigures.round(s.p99Ms(), 1));
        }
        ObjectNode c = json.putObject("checkpoints");
        c.put("completed", checkpoints.completed());
        c.put("failed", checkpoints.failed());
        c.put("end_to_end_median_ms", BenchFigures.round(checkpoints.medianMs(), 1));
        c.put("end_to_end_p99_ms", BenchFigures.round(checkpoints.p99Ms(), 1));
        c.put("end_to_end_max_ms", BenchFigures.round(checkpoints.maxMs(), 1));
        c.put("checkpointed_bytes_avg", BenchFigures.round(checkpoints.avgBytes(), 0));
        ObjectNode byTask = c.putObject("latest_state_bytes_by_task");
        checkpoints.latestBytesByTask().forEach(byTask::put);
    }

    private JsonNode get(String path) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(
                HttpRequest.newBuilder(URI.create(base + path))
                        .timeout(Duration.ofSeconds(10))
                        .GET()
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IOException("GET " + path + ": HTTP " + response.statusCode() + " " + response.body());
        }
        return Json.mapper().readTree(response.body());
    }
}
