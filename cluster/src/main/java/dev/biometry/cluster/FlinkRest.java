package dev.biometry.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The Flink REST API calls a user (or the dashboard) makes: upload and run a jar, job state, savepoints. */
final class FlinkRest {

    static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String base;

    FlinkRest(String base) {
        this.base = base;
    }

    /** POST /jars/upload (multipart, field jarfile); returns the jar id. */
    String uploadJar(Path jar) throws Exception {
        String boundary = "----biometry-cluster-" + System.nanoTime();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"jarfile\"; filename=\""
                        + jar.getFileName() + "\"\r\nContent-Type: application/x-java-archive\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        body.write(Files.readAllBytes(jar));
        body.write(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII));
        JsonNode r = send(
                HttpRequest.newBuilder(URI.create(base + "/jars/upload"))
                        .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                        .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())),
                200);
        return Path.of(r.get("filename").asText()).getFileName().toString();
    }

    /** POST /jars/{id}/run with the program's arguments (and a savepoint to restore); returns the job id. */
    String runJar(String jarId, List<String> args, String savepoint) throws Exception {
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("programArgsList", args);
        if (savepoint != null) {
            request.put("savepointPath", savepoint);
        }
        JsonNode r = send(
                HttpRequest.newBuilder(URI.create(base + "/jars/" + jarId + "/run"))
                        .header("Content-Type", "application/json")
                        .timeout(Duration.ofMinutes(3))
                        .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(request))),
                200);
        return r.get("jobid").asText();
    }

    JsonNode get(String path) throws Exception {
        return send(
                HttpRequest.newBuilder(URI.create(base + path))
                        .timeout(Duration.ofSeconds(20))
                        .GET(),
                200);
    }

    /** The job's state (RUNNING, RESTARTING, ...) and whether all its tasks run. */
    boolean allTasksRunning(String jobId) throws Exception {
        JsonNode job = get("/jobs/" + jobId);
        if (!job.get("state").asText().equals("RUNNING")) {
            return false;
        }
        for (JsonNode v : job.get("vertices")) {
            if (!v.get("status").asText().equals("RUNNING")) {
                return false;
            }
        }
        return true;
    }

    String state(String jobId) throws Exception {
        return get("/jobs/" + jobId).get("state").asText();
    }

    /** The JobManager's numRestarts metric of the job. */
    long restarts(String jobId) throws Exception {
        JsonNode m = get("/jobs/" + jobId + "/metrics?get=numRestarts");
        return m.isArray() && !m.isEmpty() ? m.get(0).get("value").asLong() : 0;
    }

    /** Checkpoint counts: in_progress, completed, failed, restored. */
    JsonNode checkpointCounts(String jobId) throws Exception {
        return get("/jobs/" + jobId + "/checkpoints").get("counts");
    }

    /** POST /jobs/{id}/checkpoints: triggers a checkpoint now; returns the trigger id (the checkpoint is pending). */
    String triggerCheckpoint(String jobId) throws Exception {
        JsonNode r = send(
                HttpRequest.newBuilder(URI.create(base + "/jobs/" + jobId + "/checkpoints"))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"checkpointType\":\"CONFIGURED\"}")),
                202);
        return r.get("request-id").asText();
    }

    /**
     * The outcome of a triggered checkpoint: "COMPLETED checkpoint N", "FAILED: cause", or "IN_PROGRESS" while it
     * runs.
     */
    String checkpointOutcome(String jobId, String trigger) throws Exception {
        JsonNode s = get("/jobs/" + jobId + "/checkpoints/" + trigger);
        if (!s.at("/status/id").asText().equals("COMPLETED")) {
            return "IN_PROGRESS";
        }
        // CheckpointInfo: {"checkpointId": N} or {"failureCause": {"class", "stack-trace", ...}}.
        JsonNode op = s.get("operation");
        JsonNode cause = op.path("failureCause");
        if (!cause.isMissingNode() && !cause.isNull()) {
            String trace = cause.path("stack-trace").asText(cause.path("class").asText(""));
            return "FAILED: " + trace.lines().findFirst().orElse("").strip();
        }
        return "COMPLETED checkpoint " + op.path("checkpointId").asText("?");
    }

    /** Resource ids of the TaskManagers running tasks of the job. */
    java.util.Set<String> taskManagersOf(String jobId) throws Exception {
        java.util.Set<String> ids = new java.util.TreeSet<>();
        for (JsonNode v : get("/jobs/" + jobId).get("vertices")) {
            for (JsonNode tm : get("/jobs/" + jobId + "/vertices/" + v.get("id").asText() + "/taskmanagers")
                    .get("taskmanagers")) {
                ids.add(tm.get("taskmanager-id").asText());
            }
        }
        return ids;
    }

    /** Stop-with-savepoint (no drain); waits for it and returns the savepoint's location. */
    String stopWithSavepoint(String jobId, Path dir, Duration timeout) throws Exception {
        String body =
                JSON.writeValueAsString(Map.of("targetDirectory", dir.toUri().toString(), "drain", false));
        JsonNode r = send(
                HttpRequest.newBuilder(URI.create(base + "/jobs/" + jobId + "/stop"))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body)),
                202);
        String trigger = r.get("request-id").asText();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            JsonNode s = get("/jobs/" + jobId + "/savepoints/" + trigger);
            if (s.at("/status/id").asText().equals("COMPLETED")) {
                JsonNode op = s.get("operation");
                if (op.has("failure-cause")) {
                    throw new IllegalStateException("stop-with-savepoint failed: " + op.get("failure-cause"));
                }
                return op.get("location").asText();
            }
            Thread.sleep(250);
        }
        throw new IllegalStateException("stop-with-savepoint did not complete within " + timeout);
    }

    void cancel(String jobId) throws Exception {
        send(
                HttpRequest.newBuilder(URI.create(base + "/jobs/" + jobId + "?mode=cancel"))
                        .method("PATCH", HttpRequest.BodyPublishers.noBody()),
                202);
    }

    private JsonNode send(HttpRequest.Builder request, int expected) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != expected) {
            throw new IllegalStateException(
                    r.request().method() + " " + r.request().uri() + " answered " + r.statusCode() + ": " + r.body());
        }
        return r.body().isEmpty() ? JSON.createObjectNode() : JSON.readTree(r.body());
    }
}
