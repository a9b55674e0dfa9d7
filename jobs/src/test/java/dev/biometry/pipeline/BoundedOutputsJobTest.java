package dev.biometry.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.biometry.api.Json;
import dev.biometry.testing.JobMetrics;
import dev.biometry.testing.JobRun;
import dev.biometry.testing.KafkaTopicReader.Message;
import dev.biometry.testing.TestData;
import dev.biometry.testing.TestImages;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Metric;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile inputs of issue 10 against the whole job (in-process Kafka, 2-slot MiniCluster, real models), in one run
 * with valid analyses before, between and after them: one analyse_id sent for two folders (the first finishes, the
 * second is a dead letter), an analysis whose record would pass the output limit (set low, 64 KiB, with
 * {@code meta_data} within its cap on each of many media), a 600 KB {@code type} string, a lone surrogate in an id.
 * Every valid analysis keeps its verdict and the job never restarts.
 */
@org.junit.jupiter.api.Tag("integration")
class BoundedOutputsJobTest {

    private static final InMemoryReporter REPORTER = InMemoryReporter.createWithRetainedMetrics();

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = JobRun.miniCluster(REPORTER);

    @TempDir
    static Path mediaRoot;

    @Test
    void hostileInputsGetTheirErrorsValidAnalysesTheirVerdictsAndTheJobNeverRestarts() throws Exception {
        String photo = TestImages.write(mediaRoot, "alice.jpg", TestData.read(TestData.samplePhoto(3)))
                .toUri()
                .toString();
        try (JobRun run = new JobRun(Map.of(
                "media-roots",
                mediaRoot.toString(),
                "max-record-bytes",
                "65536",
                "dead-letter-max-payload-bytes",
                "8192"))) {
            run.startJob();
            String requests = run.config().requestsTopic();

            String before = validAnalysis(run, photo);

            // One analyse_id for two folders: the second request comes while the first runs.
            String shared = JobRun.newId();
            String folder1 = JobRun.newId();
            String folder2 = JobRun.newId();
            run.send(requests, folder1, request(folder1, shared, photo, 2, 0));
            run.results.await(m -> shared.equals(m.key()), l -> !l.isEmpty(), JobRun.RESULT_TIMEOUT);
            run.send(requests, folder2, request(folder2, shared, photo, 2, 0));

            // 20 media with 3.9 KB of meta_data each (the cap is 4 KiB): about 80 KB of record, above the 64 KiB limit.
            String big = JobRun.newId();
            String bigFolder = JobRun.newId();
            run.send(requests, bigFolder, request(bigFolder, big, photo, 20, 3_900));

            // A 600 KB type value and a lone surrogate in an analyse_id.
            run.send(
                    requests,
                    "k",
                    ("{\"folder_id\":\"f\",\"analyses\":[{\"type\":\"" + "t".repeat(600_000) + "\"}]}")
                            .getBytes(StandardCharsets.UTF_8));
            run.send(
                    requests,
                    "k",
                    "{\"folder_id\":\"f\",\"analyses\":[{\"type\":\"biometry\",\"analyse_id\":\"a\\ud800\"}]}"
                            .getBytes(StandardCharsets.UTF_8));

            String after = validAnalysis(run, photo);

            // The shared id: exactly one PROCESSING and one final record, both of the first folder.
            JsonNode first = run.finalResult(shared);
            assertThat(first.get("folder_id").asText()).isEqualTo(folder1);
            assertThat(first.get("resolution_status").asText()).isEqualTo("SUCCESS");
            List<Message> refused = run.deadLetters.await(
                    m -> m.value()
                            .get("error_message")
                            .asText()
                            .contains("analyse_id " + shared + " is already running"),
                    l -> !l.isEmpty(),
                    JobRun.RESULT_TIMEOUT);
            assertThat(refused).singleElement().satisfies(m -> {
                assertThat(m.value().get("error_code").asInt()).isEqualTo(4);
                assertThat(m.value().get("details").asText()).isEqualTo("analyse_id");
                assertThat(Json.mapper()
                                .readTree(m.value().get("payload").asText())
                                .get("folder_id")
                                .asText())
                        .isEqualTo(folder2);
            });

            // The oversized analysis: small PROCESSING and FAILED records that still name it.
            JsonNode bigResult = run.finalResult(big);
            assertThat(bigResult.get("state").asText()).isEqualTo("FAILED");
            assertThat(bigResult.get("error_code").asInt()).isEqualTo(4);
            assertThat(bigResult.get("error_message").asText()).contains("above the output limit of 65536 bytes");
            assertThat(bigResult.get("folder_id").asText()).isEqualTo(bigFolder);
            assertThat(bigResult.toString().length()).isLessThan(2_000);

            List<Message> dead = run.deadLetters.await(
                    m -> m.value().path("error_message").asText().contains("chars)")
                            || m.value().path("details").asText().equals("analyses[0].analyse_id"),
                    l -> l.size() >= 2,
                    JobRun.RESULT_TIMEOUT);
            assertThat(dead).anySatisfy(m -> {
                assertThat(m.value().get("error_message").asText()).hasSizeLessThan(300);
                assertThat(m.value().get("payload_truncated").asBoolean()).isTrue();
                assertThat(m.value().get("payload").asText()).hasSize(8192);
            });
            assertThat(dead)
                    .anySatisfy(m ->
                            assertThat(m.value().get("error_message").asText()).contains("must be valid Unicode"));

            assertThat(run.finalResult(before).get("resolution_status").asText())
                    .isEqualTo("SUCCESS");
            assertThat(run.finalResult(after).get("resolution_status").asText()).isEqualTo("SUCCESS");

            // Two more checkpoints: any second record of the shared id is committed by then, and read.
            JobMetrics.awaitMoreCheckpoints(REPORTER, run.job().getJobID(), 2, JobRun.RESULT_TIMEOUT);
            run.results.awaitCaughtUp(JobRun.RESULT_TIMEOUT);
            List<Message> sharedRecords =
                    run.results.await(m -> shared.equals(m.key()), l -> true, JobRun.RESULT_TIMEOUT);
            assertThat(sharedRecords)
                    .extracting(m -> m.value().get("state").asText() + "@"
                            + m.value().get("folder_id").asText())
                    .containsExactly("PROCESSING@" + folder1, "FINISHED@" + folder1);
            assertThat(numRestarts(run)).isZero();
            assertThat(oversizedRecords(run))
                    .as("PROCESSING and final record of the big analysis")
                    .isGreaterThanOrEqualTo(2);
        }
    }

    private static String validAnalysis(JobRun run, String photo) throws Exception {
        String folder = JobRun.newId();
        return run.request(
                folder,
                null,
                JobRun.media(folder, "a", photo, "IMAGE_FOLDER"),
                JobRun.media(folder, "b", photo, "IMAGE_FOLDER"));
    }

    /** One analysis over {@code mediaCount} copies of {@code photo}, each with {@code metaBytes} of meta_data. */
    private static byte[] request(String folder, String analyseId, String photo, int mediaCount, int metaBytes)
            throws Exception {
        ObjectNode r = Json.mapper().createObjectNode();
        r.put("folder_id", folder);
        ObjectNode a = r.putArray("analyses").addObject();
        a.put("type", "biometry").put("analyse_id", analyseId);
        a.putObject("meta_data").put("case", "test");
        ArrayNode media = r.putArray("media");
        for (int i = 0; i < mediaCount; i++) {
            ObjectNode m = JobRun.media(folder, "m" + i, photo, "IMAGE_FOLDER");
            if (metaBytes > 0) {
                m.putObject("meta_data").put("pad", "x".repeat(metaBytes));
            }
            media.add(m);
        }
        return Json.mapper().writeValueAsBytes(r);
    }

    private static long numRestarts(JobRun run) {
        Map<String, Metric> metrics = REPORTER.findMetrics(run.job().getJobID(), "numRestarts");
        assertThat(metrics).isNotEmpty();
        long restarts = 0;
        for (Metric m : metrics.values()) {
            restarts += ((Number) ((Gauge<?>) m).getValue()).longValue();
        }
        return restarts;
    }

    private static long oversizedRecords(JobRun run) {
        return JobMetrics.counterSum(REPORTER, run.job().getJobID(), "oversizedRecords");
    }
}
