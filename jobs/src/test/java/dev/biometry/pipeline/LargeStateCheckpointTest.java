package dev.biometry.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.biometry.api.Json;
import dev.biometry.testing.JobRun;
import dev.biometry.testing.TestData;
import dev.biometry.testing.TestImages;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 10 finding 2: a folder holding more than 5 MB of keyed state (the JobManager checkpoint storage's limit per
 * state handle) checkpoints fine with either state backend: seven requests add 840 media with 7 KB of
 * {@code meta_data} each to one folder, every analysis gets its verdict, several checkpoints of that state complete
 * in the checkpoint directory, and the job never restarts (read from the MiniCluster's REST API).
 */
@org.junit.jupiter.api.Tag("integration")
class LargeStateCheckpointTest {

    private static final int REQUESTS = 7;
    private static final int FILLER_MEDIA_PER_REQUEST = 120;
    private static final int META_DATA_CHARS = 7_000;
    private static final long FIVE_MB = 5L << 20;

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER =
            new MiniClusterExtension(() -> new MiniClusterResourceConfiguration.Builder()
                    .setNumberTaskManagers(1)
                    .setNumberSlotsPerTaskManager(2)
                    .setConfiguration(new Configuration())
                    .build());

    private final HttpClient http = HttpClient.newHttpClient();

    @ParameterizedTest
    @ValueSource(strings = {"hashmap", "rocksdb"})
    void aFolderWithMoreThanFiveMegabytesOfStateCheckpointsWithoutRestarts(
            String backend, @TempDir Path mediaRoot, @TempDir Path checkpoints) throws Exception {
        Path alice = TestImages.write(mediaRoot, "alice.jpg", TestData.read(TestData.samplePhoto(3)));
        Path bob = TestImages.write(mediaRoot, "bob.jpg", TestData.read(TestData.samplePhoto(1)));
        // 7 KB of meta_data per media is above the default cap (--max-meta-data-bytes 4096): raised for this folder.
        try (JobRun run = new JobRun(Map.of(
                "media-roots",
                mediaRoot.toString(),
                "state-backend",
                backend,
                "checkpoint-dir",
                checkpoints.toUri().toString(),
                "max-meta-data-bytes",
                "8192"))) {
            run.startJob();
            String jobId = run.job().getJobID().toHexString();
            assertThat(run.durability().stateBackend()).isEqualTo(backend);

            String folder = JobRun.newId();
            Map<String, String> expected = new LinkedHashMap<>();
            for (int r = 0; r < REQUESTS; r++) {
                boolean same = r % 2 == 0;
                String analysis = JobRun.newId();
                expected.put(analysis, same ? "SUCCESS" : "DECLINED");
                run.send(run.config().requestsTopic(), folder, request(folder, analysis, r, alice, same ? alice : bob));
            }
            for (Map.Entry<String, String> e : expected.entrySet()) {
                JsonNode result = run.finalResult(e.getKey());
                assertThat(result.get("state").asText()).as(result.toString()).isEqualTo("FINISHED");
                assertThat(result.get("resolution_status").asText()).isEqualTo(e.getValue());
                assertThat(result.get("source_media")).hasSize(2);
            }

            // Every media is in the folder's state once the analyses are out; from the next checkpoints on, each
            // holds it. Wait for three completed checkpoints with a subtask above 5 MB.
            long completedBefore = rest("/jobs/" + jobId + "/checkpoints")
                    .at("/counts/completed")
                    .asLong();
            JsonNode checkpointsNow = null;
            long largestSubtask = 0;
            long deadline = System.nanoTime() + Duration.ofSeconds(240).toNanos();
            while (System.nanoTime() < deadline) {
                checkpointsNow = rest("/jobs/" + jobId + "/checkpoints");
                JsonNode latest = checkpointsNow.at("/latest/completed");
                if (!latest.isMissingNode() && !latest.isNull()) {
                    largestSubtask = largestSubtaskState(jobId, latest.get("id").asLong());
                }
                if (checkpointsNow.at("/counts/completed").asLong() >= completedBefore + 3
                        && largestSubtask > FIVE_MB) {
                    break;
                }
                Thread.sleep(500); // polling the REST API; the condition above is what is awaited
            }
            assertThat(checkpointsNow.at("/counts/completed").asLong())
                    .as(checkpointsNow.toString())
                    .isGreaterThanOrEqualTo(completedBefore + 3);
            assertThat(largestSubtask)
                    .as("largest subtask state of the latest checkpoint")
                    .isGreaterThan(FIVE_MB);
            System.err.printf(
                    java.util.Locale.ROOT,
                    "%s: largest subtask state %.1f MB, %d checkpoints completed "
                            + "(%d failed), latest full size %.1f MB, checkpointed %.1f MB%n",
                    backend,
                    largestSubtask / 1048576.0,
                    checkpointsNow.at("/counts/completed").asLong(),
                    checkpointsNow.at("/counts/failed").asLong(),
                    checkpointsNow.at("/latest/completed/state_size").asLong() / 1048576.0,
                    checkpointsNow.at("/latest/completed/checkpointed_size").asLong() / 1048576.0);
            java.util.Set<String> failures = new java.util.TreeSet<>();
            for (JsonNode c : checkpointsNow.path("history")) {
                if (c.path("status").asText().equals("FAILED")) {
                    failures.add(c.path("failure_message").asText());
                }
            }
            // The failures counted above are triggers refused while the tasks were still starting (loading the
            // models); none of the checkpoints actually taken in the recent history failed.
            assertThat(failures).as("failed checkpoints in the recent history").isEmpty();
            assertThat(checkpointsNow.at("/latest/completed/external_path").asText())
                    .startsWith(checkpoints.toUri().toString().replaceFirst("^file:///", "file:/"));
            assertThat(Files.list(checkpoints).count())
                    .as("checkpoints written to --checkpoint-dir")
                    .isPositive();

            JsonNode config = rest("/jobs/" + jobId + "/checkpoints/config");
            assertThat(config.get("state_backend").asText())
                    .as(config.toString())
                    .isEqualTo(backend.equals("rocksdb") ? "EmbeddedRocksDBStateBackend" : "HashMapStateBackend");
            assertThat(config.get("checkpoint_storage").asText()).isEqualTo("FileSystemCheckpointStorage");

            // The job got the restart strategy of BiometryJob.configure, not the cluster's default.
            JsonNode jobConfig = rest("/jobs/" + jobId + "/config");
            assertThat(jobConfig.at("/execution-config/restart-strategy").asText())
                    .as(jobConfig.toString())
                    .startsWith("Restart with exponential delay");

            // Never restarted: the job was never RESTARTING and has no failure in its exception history.
            JsonNode job = rest("/jobs/" + jobId);
            assertThat(job.get("state").asText()).isEqualTo("RUNNING");
            assertThat(job.at("/timestamps/RESTARTING").asLong())
                    .as(job.toString())
                    .isZero();
            JsonNode exceptions = rest("/jobs/" + jobId + "/exceptions");
            assertThat(exceptions.at("/exceptionHistory/entries"))
                    .as(exceptions.toString())
                    .isEmpty();
        }
    }

    /** One request of the folder: two real photos analysed, and 120 filler media of 7 KB meta_data each. */
    private static byte[] request(String folder, String analysis, int r, Path first, Path second) throws Exception {
        ObjectNode request = Json.mapper().createObjectNode();
        request.put("folder_id", folder);
        ObjectNode a = request.putArray("analyses").addObject();
        a.put("type", "biometry");
        a.put("analyse_id", analysis);
        a.putArray("source_media").add("real-" + r + "-a").add("real-" + r + "-b");
        a.putObject("meta_data").put("case", "test");
        ArrayNode media = request.putArray("media");
        media.add(JobRun.media(folder, "real-" + r + "-a", first.toUri().toString(), "IMAGE_FOLDER"));
        media.add(JobRun.media(folder, "real-" + r + "-b", second.toUri().toString(), "IMAGE_FOLDER"));
        java.util.Random random = new java.util.Random(r);
        for (int i = 0; i < FILLER_MEDIA_PER_REQUEST; i++) {
            // Random letters: RocksDB compresses its files, so repeated text would not make 5 MB of checkpoint.
            StringBuilder blob = new StringBuilder(META_DATA_CHARS);
            for (int c = 0; c < META_DATA_CHARS; c++) {
                blob.append((char) ('a' + random.nextInt(26)));
            }
            ObjectNode filler =
                    JobRun.media(folder, "filler-" + r + "-" + i, "file:///never/read/" + i + ".jpg", "IMAGE_FOLDER");
            filler.putObject("meta_data").put("note", blob.toString());
            media.add(filler);
        }
        return Json.mapper().writeValueAsBytes(request);
    }

    /** The largest state of one subtask in checkpoint {@code checkpointId}, over every vertex. */
    private long largestSubtaskState(String jobId, long checkpointId) throws Exception {
        JsonNode details = rest("/jobs/" + jobId + "/checkpoints/details/" + checkpointId);
        long largest = 0;
        List<String> vertices = new ArrayList<>();
        details.path("tasks").fieldNames().forEachRemaining(vertices::add);
        for (String vertex : vertices) {
            JsonNode subtasks = rest("/jobs/" + jobId + "/checkpoints/details/" + checkpointId + "/subtasks/" + vertex);
            for (JsonNode s : subtasks.path("subtasks")) {
                largest = Math.max(largest, s.path("state_size").asLong());
            }
        }
        return largest;
    }

    private JsonNode rest(String path) throws Exception {
        Configuration client = MINI_CLUSTER.getClientConfiguration();
        URI uri = URI.create("http://" + client.get(RestOptions.ADDRESS) + ":" + client.get(RestOptions.PORT) + path);
        HttpResponse<String> response = http.send(
                HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(uri + ": " + response.body()).isEqualTo(200);
        return Json.mapper().readTree(response.body());
    }
}
