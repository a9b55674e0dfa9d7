package dev.biometry.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.biometry.api.Json;
import dev.biometry.config.JobConfig;
import dev.biometry.face.EmbeddingPrecision;
import dev.biometry.face.FaceAnalysis;
import dev.biometry.face.FaceEngine;
import dev.biometry.face.FaceEngineConfig;
import dev.biometry.match.PairwiseMatch;
import dev.biometry.testing.JobMetrics;
import dev.biometry.testing.JobRun;
import dev.biometry.testing.KafkaTopicReader;
import dev.biometry.testing.KafkaTopicReader.Message;
import dev.biometry.testing.TestData;
import dev.biometry.testing.TestImages;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole job end to end: in-process Kafka, a 2-slot MiniCluster, the real face models. One job run serves
 * every test; each test uses its own folders and reads the committed (read_committed) output.
 */
@org.junit.jupiter.api.Tag("integration")
class BiometryJobTest {

    private static final InMemoryReporter REPORTER = InMemoryReporter.createWithRetainedMetrics();

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = JobRun.miniCluster(REPORTER);

    @TempDir
    static Path mediaRoot;

    private static JobRun run;
    private static JobConfig config;
    private static KafkaTopicReader results;
    private static KafkaTopicReader folders;
    private static KafkaTopicReader deadLetters;
    private static Map<String, String> uris;
    private static Map<String, float[]> embeddings;

    @BeforeAll
    static void startKafkaAndPrepareMedia() throws Exception {
        // A media wait long enough for the late media of mediaArrivingWithinTheWait... on a loaded machine.
        run = new JobRun(Map.of("media-wait", "10s", "media-roots", mediaRoot.toString()));
        config = run.config();
        results = run.results;
        folders = run.folders;
        deadLetters = run.deadLetters;

        uris = new HashMap<>();
        embeddings = new HashMap<>();
        try (FaceEngine engine = new FaceEngine(FaceEngineConfig.defaults(TestData.modelsDir()))) {
            Map<String, byte[]> images = Map.of(
                    "alice.jpg", TestData.read(TestData.samplePhoto(3)),
                    "alice-mirrored.jpg", TestImages.mirroredFaceCrop(engine, TestData.samplePhoto(3)),
                    "bob.jpg", TestData.read(TestData.samplePhoto(1)),
                    "carol.jpg", TestData.read(TestData.samplePhoto(5)),
                    "grey.jpg", TestImages.greyPicture(),
                    "broken.jpg", "not an image at all".getBytes(StandardCharsets.UTF_8));
            for (Map.Entry<String, byte[]> e : images.entrySet()) {
                Path file = TestImages.write(mediaRoot, e.getKey(), e.getValue());
                uris.put(e.getKey(), file.toUri().toString());
                if (!e.getKey().equals("broken.jpg")) {
                    FaceAnalysis a = engine.analyze(e.getValue(), e.getKey());
                    embeddings.put(e.getKey(), a.embedding());
                }
            }
        }
    }

    @BeforeEach
    void startJobOnce() throws Exception {
        run.startJob();
    }

    @AfterAll
    static void stop() throws Exception {
        run.close();
    }

    // ---- scenarios

    @Test
    void twoPhotosOfOneFaceSucceedAndExactlyOneFinalRecordIsCommitted() throws Exception {
        String folder = newId();
        long successesBefore = counterSum("analysesSuccess");
        String analysis =
                request(folder, null, media(folder, "a", "alice.jpg"), media(folder, "b", "alice-mirrored.jpg"));

        JsonNode result = finalResult(analysis);
        assertThat(result.get("state").asText()).isEqualTo("FINISHED");
        assertThat(result.get("resolution_status").asText()).isEqualTo("SUCCESS");
        assertThat(result.get("resolution").asText()).isEqualTo("SUCCESS");
        // The folder roll-up counts the final record before the checkpoint that commits it completes.
        assertThat(counterSum("analysesSuccess")).isGreaterThanOrEqualTo(successesBefore + 1);
        assertThat(result.get("type").asText()).isEqualTo("BIOMETRY");
        assertThat(result.get("folder_id").asText()).isEqualTo(folder);
        assertThat(result.at("/results_data/min_confidence").asDouble()).isGreaterThanOrEqualTo(0.85);
        assertThat(result.get("results_media")).hasSize(2);
        assertThat(result.at("/results_media/0/source_image_id").asText()).isEqualTo("a");
        assertThat(result.at("/results_media/0/results_data/faces_detected").asInt())
                .isEqualTo(3);

        // PROCESSING first, then exactly one final record, keyed by the analysis id.
        results.await(m -> analysis.equals(m.key()), l -> l.size() >= 2, RESULT_TIMEOUT);
        // Two more checkpoints: a duplicate emitted with the final record is committed by then, and read.
        JobMetrics.awaitMoreCheckpoints(REPORTER, run.job().getJobID(), 2, RESULT_TIMEOUT);
        results.awaitCaughtUp(RESULT_TIMEOUT);
        List<Message> all = results.await(m -> analysis.equals(m.key()), l -> true, RESULT_TIMEOUT);
        assertThat(all).extracting(m -> m.value().get("state").asText()).containsExactly("PROCESSING", "FINISHED");
    }

    @Test
    void differentFacesAreDeclined() throws Exception {
        String folder = newId();
        long declinedBefore = counterSum("analysesDeclined");
        String analysis = request(folder, null, media(folder, "a", "alice.jpg"), media(folder, "b", "bob.jpg"));
        JsonNode result = finalResult(analysis);
        assertThat(result.get("state").asText()).isEqualTo("FINISHED");
        assertThat(result.get("resolution_status").asText()).isEqualTo("DECLINED");
        assertThat(result.at("/results_data/max_confidence").asDouble()).isLessThan(0.85);
        assertThat(counterSum("analysesDeclined")).isGreaterThanOrEqualTo(declinedBefore + 1);
    }

    @Test
    void threeMediaGiveThePairwiseMinimaAndMaxima() throws Exception {
        String folder = newId();
        String[] files = {"alice.jpg", "alice-mirrored.jpg", "bob.jpg"};
        // Media sent on the media topic first, then a request without source_media: every media of the folder.
        for (int i = 0; i < files.length; i++) {
            send(config.mediaTopic(), folder, media(folder, "m" + i, files[i]));
        }
        // The media and requests topics are read by separate sources: wait until the folder knows all three media.
        folders.await(
                m -> folder.equals(m.key()),
                l -> !l.isEmpty() && l.get(l.size() - 1).value().get("media").size() == 3,
                RESULT_TIMEOUT);
        String analysis = request(folder, null);

        JsonNode result = finalResult(analysis);
        double[][] conf = new double[3][3];
        double min = 1;
        double max = 0;
        for (int i = 0; i < 3; i++) {
            for (int j = i + 1; j < 3; j++) {
                conf[i][j] = conf[j][i] = EmbeddingPrecision.DEFAULT
                        .calibration()
                        .confidence(PairwiseMatch.cosine(embeddings.get(files[i]), embeddings.get(files[j])));
                min = Math.min(min, conf[i][j]);
                max = Math.max(max, conf[i][j]);
            }
        }
        assertThat(result.at("/results_data/min_confidence").asDouble()).isCloseTo(min, within(1e-6));
        assertThat(result.at("/results_data/max_confidence").asDouble()).isCloseTo(max, within(1e-6));
        for (int i = 0; i < 3; i++) {
            JsonNode m = result.get("results_media").get(i);
            assertThat(m.get("source_media_id").asText()).isEqualTo("m" + i);
            int other1 = (i + 1) % 3;
            int other2 = (i + 2) % 3;
            assertThat(m.at("/results_data/min_confidence").asDouble())
                    .isCloseTo(Math.min(conf[i][other1], conf[i][other2]), within(1e-6));
            assertThat(m.at("/results_data/max_confidence").asDouble())
                    .isCloseTo(Math.max(conf[i][other1], conf[i][other2]), within(1e-6));
        }
        assertThat(result.get("resolution_status").asText()).isEqualTo("DECLINED");
    }

    @Test
    void sourceMediaSubsetIsHonouredAndPhotoIdBackIgnored() throws Exception {
        String folder = newId();
        ObjectNode back = media(folder, "back", "bob.jpg");
        ((ArrayNode) back.get("tags")).removeAll().add("photo_id").add("photo_id_back");
        String subset = request(
                folder,
                List.of("a", "b"),
                media(folder, "a", "alice.jpg"),
                media(folder, "b", "alice-mirrored.jpg"),
                media(folder, "c", "bob.jpg"),
                back);
        JsonNode result = finalResult(subset);
        assertThat(result.get("resolution_status").asText()).isEqualTo("SUCCESS");
        assertThat(result.get("source_media"))
                .extracting(n -> n.get("media_id").asText())
                .containsExactly("a", "b");

        String whole = request(folder, null);
        JsonNode all = finalResult(whole);
        assertThat(all.get("results_media"))
                .extracting(n -> n.get("source_media_id").asText())
                .containsExactly("a", "b", "c");
        assertThat(all.get("resolution_status").asText()).isEqualTo("DECLINED");
    }

    @Test
    void fewerThanTwoEligibleMediaFailWithCode4() throws Exception {
        String folder = newId();
        ObjectNode back = media(folder, "back", "bob.jpg");
        ((ArrayNode) back.get("tags")).removeAll().add("photo_id_back");
        long failedBefore = counterSum("analysesFailed");
        String analysis = request(folder, null, media(folder, "a", "alice.jpg"), back);
        JsonNode result = finalResult(analysis);
        assertThat(result.get("state").asText()).isEqualTo("FAILED");
        assertThat(result.get("resolution_status").asText()).isEqualTo("FAILED");
        assertThat(result.get("error_code").asInt()).isEqualTo(4);
        assertThat(result.get("error_message").asText())
                .contains("at least two eligible media")
                .contains("photo_id_back");
        assertThat(counterSum("analysesFailed")).isGreaterThanOrEqualTo(failedBefore + 1);
    }

    @Test
    void unknownMediaFailWithCode10AfterTheWait() throws Exception {
        String folder = newId();
        long t0 = System.currentTimeMillis();
        String analysis = request(folder, List.of("a", "ghost"), media(folder, "a", "alice.jpg"));
        JsonNode result = finalResult(analysis);
        assertThat(System.currentTimeMillis() - t0)
                .isGreaterThanOrEqualTo(config.mediaWait().toMillis());
        assertThat(result.get("state").asText()).isEqualTo("FAILED");
        assertThat(result.get("error_code").asInt()).isEqualTo(10);
        assertThat(result.get("error_message").asText()).contains("ghost").doesNotContain("[a");
    }

    @Test
    void mediaArrivingWithinTheWaitStartTheAnalysis() throws Exception {
        String folder = newId();
        String analysis = request(folder, List.of("a", "late"), media(folder, "a", "alice.jpg"));
        // The roll-up shows the request's media once a checkpoint taken after the request completed; its barrier
        // followed the request into folder-join, so the analysis is waiting there for "late" by then.
        folders.await(m -> folder.equals(m.key()), l -> !l.isEmpty(), RESULT_TIMEOUT);
        results.awaitCaughtUp(RESULT_TIMEOUT);
        assertThat(results.messages())
                .as("no record of the analysis before its last media")
                .noneMatch(m -> analysis.equals(m.key()));
        send(config.mediaTopic(), folder, media(folder, "late", "alice-mirrored.jpg"));
        JsonNode result = finalResult(analysis);
        assertThat(result.get("resolution_status").asText()).isEqualTo("SUCCESS");
    }

    @Test
    void aPhotoWithoutAFaceIsDeclinedWithFacesDetectedZero() throws Exception {
        String folder = newId();
        long withoutFaceBefore = counterSum("mediaWithoutFace");
        long latenciesBefore = histogramCount("embeddingLatencyMs");
        long faceWorkBefore = counterSum("faceWorkCpuMicros");
        String analysis = request(folder, null, media(folder, "a", "alice.jpg"), media(folder, "g", "grey.jpg"));
        JsonNode result = finalResult(analysis);
        assertThat(result.get("state").asText()).isEqualTo("FINISHED");
        assertThat(result.get("resolution_status").asText()).isEqualTo("DECLINED");
        JsonNode grey = result.get("results_media").get(1);
        assertThat(grey.at("/results_data/faces_detected").asInt()).isZero();
        assertThat(grey.at("/error/code").asInt()).isEqualTo(4);
        assertThat(grey.at("/error/message").asText()).contains("no face");
        // Only this test uses grey.jpg, so it went through the engine (no cache hit) whatever ran before.
        assertThat(counterSum("mediaWithoutFace")).isGreaterThanOrEqualTo(withoutFaceBefore + 1);
        assertThat(histogramCount("embeddingLatencyMs")).isGreaterThanOrEqualTo(latenciesBefore + 1);
        assertThat(counterSum("faceWorkCpuMicros"))
                .as("the decode and detection of grey.jpg took CPU time")
                .isGreaterThan(faceWorkBefore);
        assertThat(counterSum("facesDetected"))
                .as("alice.jpg has faces, embedded in this test or earlier")
                .isPositive();
    }

    @Test
    void unreadableOrMissingMediaFailTheAnalysisNamingTheMedia() throws Exception {
        String folder = newId();
        String broken = request(folder, null, media(folder, "a", "alice.jpg"), media(folder, "x", "broken.jpg"));
        JsonNode result = finalResult(broken);
        assertThat(result.get("state").asText()).isEqualTo("FAILED");
        assertThat(result.get("error_code").asInt()).isEqualTo(4);
        assertThat(result.get("error_message").asText()).startsWith("media x: ").contains("not a JPEG or PNG image");

        String folder2 = newId();
        ObjectNode missing = media(folder2, "gone", "alice.jpg");
        missing.put("uri", mediaRoot.resolve("gone.jpg").toUri().toString());
        JsonNode missingResult = finalResult(request(folder2, null, media(folder2, "a", "alice.jpg"), missing));
        assertThat(missingResult.get("error_code").asInt()).isEqualTo(10);
        assertThat(missingResult.get("error_message").asText()).contains("gone");
    }

    @Test
    void badInputGoesToTheDeadLetterTopicAndTheJobCarriesOn() throws Exception {
        long deadLettersBefore = counterSum("deadLetters");
        send(config.requestsTopic(), "k", "{ not json".getBytes(StandardCharsets.UTF_8));
        ObjectNode badType = media(newId(), "a", "alice.jpg");
        badType.put("media_type", "HOLOGRAM");
        send(config.mediaTopic(), "k", Json.mapper().writeValueAsBytes(badType));
        send(config.requestsTopic(), "k", new byte[] {(byte) 0xff, (byte) 0xfe, 0x00});

        String folder = newId();
        String analysis =
                request(folder, null, media(folder, "a", "alice.jpg"), media(folder, "b", "alice-mirrored.jpg"));
        assertThat(finalResult(analysis).get("resolution_status").asText()).isEqualTo("SUCCESS");

        List<Message> dead = deadLetters.await(m -> true, l -> l.size() >= 3, RESULT_TIMEOUT);
        assertThat(dead).extracting(m -> m.value().get("error_code").asInt()).contains(3, 4);
        assertThat(dead).anySatisfy(m -> {
            assertThat(m.value().get("payload_encoding").asText()).isEqualTo("base64");
            assertThat(m.value().at("/source/topic").asText()).isEqualTo(config.requestsTopic());
        });
        assertThat(dead)
                .anySatisfy(m -> assertThat(m.value().get("details").asText()).isEqualTo("media_type"));
        assertThat(counterSum("deadLetters")).as("the three bad records").isGreaterThanOrEqualTo(deadLettersBefore + 3);
    }

    @Test
    void reVerifyingKnownMediaDoesNoNewInference() throws Exception {
        String folder = newId();
        ObjectNode a = media(folder, "cached-a", "carol.jpg");
        ObjectNode b = media(folder, "cached-b", "bob.jpg");
        finalResult(request(folder, null, a, b));
        long embeddedBefore = counterSum("mediaEmbedded");
        long hitsBefore = counterSum("embeddingCacheHits");
        long faceWorkBefore = counterSum("faceWorkCpuMicros");
        // Both media were new to the job, so "unchanged" below is about a counter that does count.
        assertThat(embeddedBefore).isGreaterThanOrEqualTo(2);

        JsonNode second = finalResult(request(folder, List.of("cached-a", "cached-b")));
        assertThat(second.get("state").asText()).isEqualTo("FINISHED");
        assertThat(counterSum("embeddingCacheHits")).isEqualTo(hitsBefore + 2);
        assertThat(counterSum("mediaEmbedded")).isEqualTo(embeddedBefore);
        assertThat(counterSum("faceWorkCpuMicros")).isEqualTo(faceWorkBefore);
    }

    /**
     * One request, three analyses of two different faces: params.threshold and threshold_min put the confidence in
     * the OPERATOR_REQUIRED band and are echoed; a threshold_min above the job's threshold (the request gives none)
     * FAILS its analysis with error 4 while its siblings run; an analysis without analyse_id gets a UUID.
     */
    @Test
    void paramsBandsThresholdMinAboveTheJobsThresholdAndGeneratedIds() throws Exception {
        String folder = newId();
        long operatorRequiredBefore = counterSum("analysesOperatorRequired");
        String review = newId();
        String tooHigh = newId();
        ObjectNode request = Json.mapper().createObjectNode();
        request.put("folder_id", folder);
        ArrayNode analyses = request.putArray("analyses");
        ObjectNode reviewAnalysis = analyses.addObject().put("type", "biometry").put("analyse_id", review);
        reviewAnalysis.putObject("params").put("threshold", 0.99).put("threshold_min", 0.0);
        reviewAnalysis.putObject("meta_data").put("case", "test");
        ObjectNode tooHighAnalysis =
                analyses.addObject().put("type", "biometry").put("analysis_id", tooHigh);
        tooHighAnalysis.putObject("params").put("threshold_min", 0.9);
        tooHighAnalysis.putObject("meta_data").put("case", "test");
        analyses.addObject().put("type", "biometry").putObject("meta_data").put("case", "test");
        request.putArray("media").add(media(folder, "a", "alice.jpg")).add(media(folder, "b", "bob.jpg"));
        send(config.requestsTopic(), folder, request);

        JsonNode reviewed = finalResult(review);
        assertThat(reviewed.get("state").asText()).isEqualTo("FINISHED");
        assertThat(reviewed.get("resolution_status").asText()).isEqualTo("OPERATOR_REQUIRED");
        assertThat(reviewed.at("/results_data/min_confidence").asDouble()).isLessThan(0.85);
        assertThat(reviewed.at("/params/threshold").asDouble()).isEqualTo(0.99);
        assertThat(reviewed.at("/params/threshold_min").asDouble()).isEqualTo(0.0);
        assertThat(counterSum("analysesOperatorRequired")).isGreaterThanOrEqualTo(operatorRequiredBefore + 1);

        JsonNode failed = finalResult(tooHigh);
        assertThat(failed.get("state").asText()).isEqualTo("FAILED");
        assertThat(failed.get("error_code").asInt()).isEqualTo(4);
        assertThat(failed.get("error_message").asText())
                .isEqualTo("params.threshold_min (0.9) must not exceed the threshold (0.85, the job's default)");
        assertThat(failed.at("/params/threshold").asDouble()).isEqualTo(0.85);

        List<Message> generated = results.await(
                m -> folder.equals(m.value().path("folder_id").asText())
                        && !Set.of(review, tooHigh).contains(m.key()),
                l -> !l.isEmpty(),
                RESULT_TIMEOUT);
        String generatedId = generated.get(0).key();
        assertThat(generatedId).matches("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
        JsonNode declined = finalResult(generatedId);
        assertThat(declined.get("resolution_status").asText()).isEqualTo("DECLINED");
        assertThat(declined.at("/params/threshold").asDouble())
                .as("the job's threshold, echoed")
                .isEqualTo(0.85);
        assertThat(declined.get("params").has("threshold_min")).isFalse();
    }

    @Test
    void theFolderRollUpFollowsItsAnalyses() throws Exception {
        String folder = newId();
        String analysis =
                request(folder, null, media(folder, "a", "alice.jpg"), media(folder, "b", "alice-mirrored.jpg"));
        finalResult(analysis);
        List<Message> states = folders.await(
                m -> folder.equals(m.key()),
                l -> !l.isEmpty()
                        && l.get(l.size() - 1)
                                .value()
                                .get("resolution_status")
                                .asText()
                                .equals("FINISHED"),
                RESULT_TIMEOUT);
        assertThat(states)
                .extracting(m -> m.value().get("resolution_status").asText())
                .contains("PROCESSING");
        JsonNode last = states.get(states.size() - 1).value();
        assertThat(last.at("/analyses/0/analyse_id").asText()).isEqualTo(analysis);
        assertThat(last.at("/analyses/0/resolution_status").asText()).isEqualTo("SUCCESS");
        assertThat(last.get("media")).hasSize(2);
    }

    // ---- helpers

    private static final Duration RESULT_TIMEOUT = JobRun.RESULT_TIMEOUT;

    private static String newId() {
        return JobRun.newId();
    }

    private static ObjectNode media(String folder, String id, String file) {
        ObjectNode m = JobRun.media(folder, id, uris.get(file), "IMAGE_FOLDER");
        m.put("original_name", file);
        return m;
    }

    private static String request(String folder, List<String> sourceMedia, ObjectNode... media) throws Exception {
        return run.request(folder, sourceMedia, media);
    }

    private static void send(String topic, String key, ObjectNode value) throws Exception {
        run.send(topic, key, value);
    }

    private static void send(String topic, String key, byte[] value) throws Exception {
        run.send(topic, key, value);
    }

    private static JsonNode finalResult(String analysisId) throws InterruptedException {
        return run.finalResult(analysisId);
    }

    /** The sum over every subtask of the job's counter {@code name}; 0 before any subtask registered it. */
    private static long counterSum(String name) {
        return JobMetrics.counterSum(REPORTER, run.job().getJobID(), name);
    }

    /** How many values every subtask's histogram {@code name} has recorded. */
    private static long histogramCount(String name) {
        return JobMetrics.histogramCount(REPORTER, run.job().getJobID(), name);
    }
}
