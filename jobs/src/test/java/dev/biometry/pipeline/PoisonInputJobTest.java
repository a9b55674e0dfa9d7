package dev.biometry.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.biometry.api.Json;
import dev.biometry.cli.HostileMedia;
import dev.biometry.face.FaceCrops;
import dev.biometry.face.FaceEngine;
import dev.biometry.face.FaceEngineConfig;
import dev.biometry.testing.JobRun;
import dev.biometry.testing.KafkaTopicReader;
import dev.biometry.testing.TestData;
import dev.biometry.testing.TestImages;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Metric;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The poison-input suite: one job run (in-process Kafka, a 2-slot MiniCluster, the real models) is fed valid
 * analyses before, between and after a message of every hostile kind the engine knows of (malformed, oversized,
 * deeply nested, invalid Unicode, colliding ids, too many media, and corrupt, fake, huge, bomb, forbidden or
 * blocking media). Every valid analysis must get its right verdict, every hostile input its documented error (a
 * dead letter or a FAILED analysis with the right code), every output record must stay within the job's record
 * bound, and the job must not restart once.
 */
@org.junit.jupiter.api.Tag("integration")
class PoisonInputJobTest {

    private static final InMemoryReporter REPORTER = InMemoryReporter.createWithRetainedMetrics();

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = JobRun.miniCluster(REPORTER);

    @TempDir
    static Path root;

    private static JobRun run;
    private static final Map<String, String> uris = new LinkedHashMap<>();

    @BeforeAll
    static void prepare() throws Exception {
        try (FaceEngine engine = new FaceEngine(FaceEngineConfig.defaults(TestData.modelsDir()))) {
            file("alice.jpg", TestData.read(TestData.samplePhoto(3)));
            file("alice-mirrored.jpg", FaceCrops.mirroredCrop(engine, TestData.read(TestData.samplePhoto(3)), "alice"));
            file("bob.jpg", TestData.read(TestData.samplePhoto(1)));
        }
        byte[] jpeg = TestData.read(TestData.samplePhoto(2));
        byte[] corrupt = Arrays.copyOf(jpeg, jpeg.length);
        Arrays.fill(corrupt, 20, corrupt.length, (byte) 0x55);
        file("corrupt.jpg", corrupt);
        byte[] png = TestImages.pngBytes(jpeg);
        file("truncated.png", Arrays.copyOf(png, png.length / 3));
        file("huge-header.png", HostileMedia.pngHeader(30_000, 30_000));
        file("bomb.zip", HostileMedia.zipBomb(300L << 20));
        file("forty-megapixel-frames.zip", HostileMedia.uniformShotsSet(10, 8000, 5000));
        file("fake.mp4", "no video in here\n".repeat(200).getBytes(StandardCharsets.UTF_8));
        Path fifo = root.resolve("fifo.jpg");
        assertThat(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor())
                .isZero();
        uris.put("fifo.jpg", fifo.toUri().toString());
        run = new JobRun(Map.of("media-wait", "3s", "media-roots", root.toString()));
    }

    @AfterAll
    static void stop() throws Exception {
        run.close();
    }

    /** A request or media message and the answer it must get. */
    private record Case(String name, String marker, Consumer<JsonNode> expect) {}

    private final List<Case> cases = new ArrayList<>();
    private final List<String[]> valid = new ArrayList<>();

    @Test
    void everyPoisonInputGetsItsDocumentedAnswerWhileValidAnalysesGoOnAndTheJobNeverRestarts() throws Exception {
        run.startJob(); // from the test method: the MiniCluster (with the metrics reporter) is the context here
        validPair("before: same person", true);
        validPair("before: two people", false);

        // Messages that cannot be used: dead letters with the Oz code of the first problem.
        rawRequest(
                "malformed JSON",
                m -> "{\"x\":\"" + m + "\",\"folder_id\":\"f\",\"analyses\":[{\"type\":",
                deadLetter(3));
        request(
                "not UTF-8",
                m -> {
                    byte[] head = ("{\"x\":\"" + m + "\",\"folder_id\":\"").getBytes(StandardCharsets.UTF_8);
                    return ByteBuffer.allocate(head.length + 4)
                            .put(head)
                            .put(new byte[] {(byte) 0xC3, 0x28, '"', '}'})
                            .array();
                },
                deadLetter(3));
        rawRequest(
                "nesting 20,000 deep",
                m -> "{\"x\":\"" + m + "\",\"folder_id\":\"f\",\"meta\":" + "[".repeat(20_000) + "]".repeat(20_000)
                        + "}",
                deadLetter(3));
        jsonRequest(
                "huge number",
                (r, m) -> analysis(r, m).putObject("params").put("threshold", new java.math.BigDecimal("1e400")),
                deadLetter(4));
        jsonRequest("600 KB analysis type", (r, m) -> analysis(r, m).put("type", "x".repeat(600_000)), deadLetter(4));
        rawRequest(
                "lone surrogate in analyse_id",
                m -> "{\"x\":\"" + m + "\",\"folder_id\":\"f\",\"analyses\":"
                        + "[{\"type\":\"biometry\",\"analyse_id\":\"a\\ud800\"}]}",
                deadLetter(4));
        jsonRequest(
                "700 KB meta_data",
                (r, m) -> analysis(r, m).putObject("meta_data").put("blob", "m".repeat(700_000)),
                deadLetter(4));
        jsonRequest(
                "560 KB media URI",
                (r, m) -> {
                    analysis(r, m);
                    photos(r, m, "file://" + root + "/" + "d".repeat(560_000) + ".jpg");
                },
                deadLetter(4));
        jsonRequest(
                "4,000 media",
                (r, m) -> {
                    analysis(r, m);
                    ArrayNode media = r.putArray("media");
                    for (int i = 0; i < 4_000; i++) {
                        media.add(media(m + "-" + i, uris.get("alice.jpg"), "IMAGE_FOLDER"));
                    }
                },
                deadLetter(4));
        jsonRequest(
                "long original_name",
                (r, m) -> {
                    analysis(r, m);
                    photos(r, m, uris.get("bob.jpg"));
                    ((ObjectNode) r.get("media").get(1)).put("original_name", "n".repeat(100_000));
                },
                deadLetter(4));
        mediaMessage(
                "media_id of the wrong type",
                m -> "{\"x\":\"" + m + "\",\"folder_id\":\"f\",\"media_id\":42,"
                        + "\"media_type\":\"IMAGE_FOLDER\",\"uri\":\"file:///x.jpg\"}",
                deadLetter(5));

        validPair("between: same person", true);

        // Media that cannot be used: the analysis FAILS with the code of the media's problem.
        badSecondMedia("file URI escaping the roots", "file://" + root + "/../../../etc/passwd", "IMAGE_FOLDER", 4);
        badSecondMedia("cloud metadata address", "http://169.254.169.254/latest/meta-data/face.jpg", "IMAGE_FOLDER", 4);
        badSecondMedia("corrupt JPEG", uris.get("corrupt.jpg"), "IMAGE_FOLDER", 4);
        badSecondMedia("truncated PNG", uris.get("truncated.png"), "IMAGE_FOLDER", 4);
        badSecondMedia("PNG header of 30000 x 30000", uris.get("huge-header.png"), "IMAGE_FOLDER", 4);
        badSecondMedia("ZIP bomb", uris.get("bomb.zip"), "SHOTS_SET", 4);
        badSecondMedia("10 frames of 40 MP", uris.get("forty-megapixel-frames.zip"), "SHOTS_SET", 4);
        badSecondMedia("text as a video", uris.get("fake.mp4"), "VIDEO_FOLDER", 4);
        badSecondMedia("a FIFO named .jpg", uris.get("fifo.jpg"), "IMAGE_FOLDER", 4);
        badSecondMedia("a missing file", "file://" + root + "/missing.jpg", "IMAGE_FOLDER", 10);

        // One analysis id in two folders: the first request runs, the second is refused while it is live.
        String[] first = validPair("collision: the first request", true);
        // Requests of two folders may travel on two partitions: the second is sent once the first has its claim.
        run.results.await(m -> first[0].equals(m.key()), l -> !l.isEmpty(), JobRun.RESULT_TIMEOUT);
        jsonRequest(
                "the same analyse_id in another folder",
                (r, m) -> {
                    analysis(r, m).put("analyse_id", first[0]);
                    photos(r, m, uris.get("bob.jpg"));
                },
                deadLetter(4));

        validPair("after: two people", false);
        validPair("after: same person", true);

        for (String[] v : valid) {
            JsonNode result = run.finalResult(v[0]);
            assertThat(result.get("state").asText()).as(v[1]).isEqualTo("FINISHED");
            assertThat(result.get("resolution_status").asText()).as(v[1]).isEqualTo(v[2]);
        }
        List<String> wrong = new ArrayList<>();
        for (Case c : cases) {
            JsonNode answer = answerOf(c);
            try {
                c.expect().accept(answer);
            } catch (AssertionError e) {
                wrong.add(c.name() + ": " + e.getMessage().replaceAll("\\s+", " "));
            }
        }
        assertThat(wrong)
                .as("hostile inputs answered otherwise than documented")
                .isEmpty();
        long bound = run.config().maxRecordBytes();
        for (KafkaTopicReader reader : List.of(run.results, run.folders, run.deadLetters)) {
            for (KafkaTopicReader.Message message : reader.messages()) {
                assertThat(Json.write(message.value()).getBytes(StandardCharsets.UTF_8).length)
                        .as("a record on %s", reader)
                        .isLessThanOrEqualTo((int) bound);
            }
        }
        assertThat(numRestarts()).as("job restarts").isZero();
    }

    // ---- inputs

    private String[] validPair(String name, boolean samePerson) throws Exception {
        String folder = JobRun.newId();
        String id = run.request(
                folder,
                null,
                JobRun.media(folder, JobRun.newId(), uris.get("alice.jpg"), "IMAGE_FOLDER"),
                JobRun.media(
                        folder,
                        JobRun.newId(),
                        uris.get(samePerson ? "alice-mirrored.jpg" : "bob.jpg"),
                        "IMAGE_FOLDER"));
        String[] v = {id, name, samePerson ? "SUCCESS" : "DECLINED"};
        valid.add(v);
        return v;
    }

    private interface RequestBody {
        void fill(ObjectNode request, String marker) throws Exception;
    }

    private interface RawBody {
        byte[] bytes(String marker) throws Exception;
    }

    private void jsonRequest(String name, RequestBody body, Consumer<JsonNode> expect) throws Exception {
        request(
                name,
                m -> {
                    ObjectNode r = Json.mapper().createObjectNode();
                    r.put("x", m); // first, so that a truncated dead-letter payload still names the case
                    r.put("folder_id", m); // a dead letter made from the parsed request names its folder

                    body.fill(r, m);
                    return Json.mapper().writeValueAsBytes(r);
                },
                expect);
    }

    private void rawRequest(String name, java.util.function.Function<String, String> text, Consumer<JsonNode> expect)
            throws Exception {
        request(name, m -> text.apply(m).getBytes(StandardCharsets.UTF_8), expect);
    }

    private void request(String name, RawBody body, Consumer<JsonNode> expect) throws Exception {
        String marker = "case-" + JobRun.newId();
        cases.add(new Case(name, marker, expect));
        run.send(run.config().requestsTopic(), marker, body.bytes(marker));
    }

    private void mediaMessage(String name, java.util.function.Function<String, String> text, Consumer<JsonNode> expect)
            throws Exception {
        String marker = "case-" + JobRun.newId();
        cases.add(new Case(name, marker, expect));
        run.send(run.config().mediaTopic(), marker, text.apply(marker).getBytes(StandardCharsets.UTF_8));
    }

    /** An analysis of a good selfie and {@code uri}, which must FAIL with {@code code}. */
    private void badSecondMedia(String name, String uri, String mediaType, int code) throws Exception {
        jsonRequest(
                name,
                (r, m) -> {
                    analysis(r, m);
                    ArrayNode media = r.putArray("media");
                    media.add(media(m + "-a", uris.get("alice.jpg"), "IMAGE_FOLDER"));
                    media.add(media(m + "-b", uri, mediaType));
                },
                failed(code));
    }

    private static ObjectNode analysis(ObjectNode request, String marker) {
        ObjectNode a = request.putArray("analyses").addObject();
        a.put("type", "biometry");
        a.put("analyse_id", marker);
        return a;
    }

    private static void photos(ObjectNode request, String marker, String secondUri) {
        ArrayNode media = request.putArray("media");
        media.add(media(marker + "-a", uris.get("alice.jpg"), "IMAGE_FOLDER"));
        media.add(media(marker + "-b", secondUri, "IMAGE_FOLDER"));
    }

    private static ObjectNode media(String id, String uri, String type) {
        ObjectNode m = Json.mapper().createObjectNode();
        m.put("media_id", id);
        m.put("media_type", type);
        m.putArray("tags").add("photo_selfie");
        m.put("uri", uri);
        return m;
    }

    // ---- answers

    private static Consumer<JsonNode> deadLetter(int code) {
        return answer -> {
            assertThat(answer.has("payload")).as("a dead letter: %s", answer).isTrue();
            assertThat(answer.get("error_code").asInt()).as(answer.toString()).isEqualTo(code);
            assertThat(answer.get("error_message").asText().length())
                    .as("error message length")
                    .isLessThan(2_000);
        };
    }

    private static Consumer<JsonNode> failed(int code) {
        return answer -> {
            assertThat(answer.has("payload"))
                    .as("an analysis, not a dead letter: %s", answer)
                    .isFalse();
            assertThat(answer.get("state").asText()).as(answer.toString()).isEqualTo("FAILED");
            assertThat(answer.get("error_code").asInt()).as(answer.toString()).isEqualTo(code);
        };
    }

    /** The case's final analysis (its analyse_id is the marker) or its dead letter (the payload names the marker). */
    private static JsonNode answerOf(Case c) throws InterruptedException {
        long deadline = System.nanoTime() + JobRun.RESULT_TIMEOUT.toNanos();
        while (true) {
            List<JsonNode> found = new ArrayList<>();
            run.results.messages().stream()
                    .filter(m -> c.marker().equals(m.key())
                            && !m.value().path("state").asText().equals("PROCESSING"))
                    .forEach(m -> found.add(m.value()));
            run.deadLetters.messages().stream()
                    .filter(m -> payload(m.value()).contains(c.marker()))
                    .forEach(m -> found.add(m.value()));
            if (!found.isEmpty() || System.nanoTime() > deadline) {
                assertThat(found).as("the answer to '%s'", c.name()).hasSize(1);
                return found.get(0);
            }
            Thread.sleep(100);
        }
    }

    private static String payload(JsonNode deadLetter) {
        String payload = deadLetter.path("payload").asText("");
        return deadLetter.path("payload_encoding").asText().equals("base64")
                ? new String(Base64.getDecoder().decode(payload), StandardCharsets.ISO_8859_1)
                : payload;
    }

    private static long numRestarts() {
        for (Metric m :
                REPORTER.findMetrics(run.job().getJobID(), "numRestarts").values()) {
            return ((Number) ((Gauge<?>) m).getValue()).longValue();
        }
        throw new AssertionError("no numRestarts metric");
    }

    private static void file(String name, byte[] bytes) throws Exception {
        Path file = Files.write(root.resolve(name), bytes);
        uris.put(name, file.toUri().toString());
    }
}
