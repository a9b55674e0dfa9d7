package dev.biometry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.biometry.api.Json;
import dev.biometry.config.JobConfig;
import dev.biometry.local.EmbeddedKafkaBroker;
import dev.biometry.pipeline.BatchEndpoints;
import dev.biometry.pipeline.BiometryJob;
import dev.biometry.testing.TestData;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.runtime.jobgraph.JobType;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code batch}: 200 generated requests give 200 final results, progress up to the total and an HTML report that
 * headless Chromium renders; the run is in Flink's BATCH mode; {@code --from-kafka} reads a topic up to its latest
 * offsets and ends. (That batch and streaming give the same results: BatchAndLocalAgreeTest in the launcher.)
 */
@org.junit.jupiter.api.Tag("integration")
class BatchCommandTest {

    @Test
    void twoHundredRequestsGiveTwoHundredResultsAndARenderedReport(@TempDir Path dir) throws Exception {
        Path requests = writeRequests(dir, 200, 11);
        Files.writeString(requests, "this line is not JSON\n", java.nio.file.StandardOpenOption.APPEND);
        Path results = dir.resolve("results.jsonl");
        Path report = dir.resolve("report.html");

        String err = run(
                "batch",
                "--input",
                requests.toString(),
                "--output",
                results.toString(),
                "--report",
                report.toString(),
                "--models",
                TestData.modelsDir().toString(),
                "--parallelism",
                "2");

        List<JsonNode> lines = readLines(results);
        assertThat(lines).hasSize(200);
        assertThat(lines).extracting(l -> l.get("analyse_id").asText()).doesNotHaveDuplicates();
        assertThat(lines).allSatisfy(l -> assertThat(l.get("state").asText()).isIn("FINISHED", "FAILED"));
        assertThat(readLines(dir.resolve("results.jsonl.dead-letters.jsonl"))).hasSize(1);
        assertThat(err).contains("200 results written");
        assertProgressReachesTheTotal(err, 201); // the line that is not JSON counts as done too
        assertThat(dir.resolve("results.jsonl.parts")).doesNotExist();

        String html = Files.readString(report);
        long success = lines.stream()
                .filter(l -> l.get("resolution_status").asText().equals("SUCCESS"))
                .count();
        assertThat(success).isPositive().isLessThan(200);
        assertThat(html)
                .contains("<svg")
                .contains("threshold 0.85")
                .contains("<b>" + success + "</b>success")
                .contains("Slowest media")
                .doesNotContain("<script");

        Path chromium = Path.of("/usr/bin/chromium");
        assumeTrue(
                Files.isExecutable(chromium),
                "SKIPPED rendering check: /usr/bin/chromium missing (.ci/run installs it)");
        Path png = dir.resolve("report.png");
        Process p = new ProcessBuilder(
                        chromium.toString(),
                        "--headless",
                        "--no-sandbox",
                        "--disable-gpu",
                        "--disable-background-networking",
                        "--disable-component-update",
                        "--disable-sync",
                        "--no-first-run",
                        "--user-data-dir=" + dir.resolve("chromium-profile"),
                        "--window-size=1000,1400",
                        "--screenshot=" + png,
                        report.toUri().toString())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("chromium.log").toFile())
                .start();
        assertThat(p.waitFor(90, TimeUnit.SECONDS)).as("chromium finished").isTrue();
        assertThat(png).isRegularFile();
        assertThat(Files.size(png)).as("screenshot bytes").isGreaterThan(20_000);
    }

    @Test
    void theBatchEnvironmentRunsTheJobInFlinksBatchMode(@TempDir Path dir) throws Exception {
        JobConfig config =
                JobConfig.fromOptions(Map.of("models", TestData.modelsDir().toString(), "parallelism", "2"));
        StreamExecutionEnvironment env = BatchCommand.batchEnvironment(config);
        assertThat(env.getConfiguration().get(ExecutionOptions.RUNTIME_MODE)).isEqualTo(RuntimeExecutionMode.BATCH);
        assertThat(env.getParallelism()).isEqualTo(2);

        BiometryJob.build(
                env,
                config,
                BatchEndpoints.fromFile(
                        writeRequests(dir, 1, 1).toString(),
                        dir.toString(),
                        dir.resolve("out.parts").toString()));
        StreamGraph graph = env.getStreamGraph();
        assertThat(graph.getJobType()).isEqualTo(JobType.BATCH);
        assertThat(graph.getCheckpointConfig().isCheckpointingEnabled()).isFalse();
    }

    @Test
    void progressLinesGiveDoneOfTotalRateAndEta() {
        assertThat(BatchCommand.progressLine(0, 201, 2.0)).isEqualTo("batch: 0 / 201 analyses embedded, 0.00/s, ETA ?");
        assertThat(BatchCommand.progressLine(50.5, 201, 10.0))
                .isEqualTo("batch: 51 / 201 analyses embedded, 5.05/s, ETA 30 s");
        assertThat(BatchCommand.progressLine(201, 201, 20.1))
                .isEqualTo("batch: 201 / 201 analyses embedded, 10.00/s, ETA 0 s");
        assertThat(BatchCommand.progressLine(3, -1, 1.5)).isEqualTo("batch: 3 analyses embedded, 2.00/s");
    }

    /** Three requests on a topic of the in-process broker: the run reads them up to the latest offsets and ends. */
    @Test
    void fromKafkaUntilLatestReadsTheTopicAndEnds(@TempDir Path dir) throws Exception {
        String topic = "batch-requests";
        try (EmbeddedKafkaBroker kafka = EmbeddedKafkaBroker.start()) {
            kafka.createTopics(2, topic);
            Properties props = new Properties();
            props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
            try (KafkaProducer<String, String> producer =
                    new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
                for (int i = 0; i < 3; i++) {
                    ObjectNode r = Json.mapper().createObjectNode();
                    r.put("folder_id", "kafka-folder-" + i);
                    r.putArray("analyses").addObject().put("type", "biometry").put("analyse_id", "kafka-" + i);
                    var media = r.putArray("media");
                    media.addObject()
                            .put("media_id", "selfie-" + i)
                            .put("media_type", "IMAGE_FOLDER")
                            .put("uri", TestData.samplePhoto(3).toUri().toString())
                            .putArray("tags")
                            .add("photo_selfie");
                    media.addObject()
                            .put("media_id", "document-" + i)
                            .put("media_type", "IMAGE_FOLDER")
                            .put("uri", TestData.samplePhoto(1 + i).toUri().toString())
                            .putArray("tags")
                            .add("photo_id");
                    producer.send(new ProducerRecord<>(topic, "kafka-folder-" + i, Json.write(r)))
                            .get();
                }
            }
            Path results = dir.resolve("from-kafka.jsonl");

            String err = assertTimeoutPreemptively(
                    Duration.ofMinutes(3),
                    () -> run(
                            "batch",
                            "--from-kafka",
                            topic,
                            "--until",
                            "latest",
                            "--bootstrap-servers",
                            kafka.bootstrapServers(),
                            "--output",
                            results.toString(),
                            "--models",
                            TestData.modelsDir().toString(),
                            "--media-roots",
                            TestData.modelsDir().resolve("samples").toString(),
                            "--parallelism",
                            "2"),
                    "the batch run ends at the offsets that were latest when it started");

            List<JsonNode> lines = readLines(results);
            assertThat(lines)
                    .extracting(l -> l.get("analyse_id").asText())
                    .containsExactlyInAnyOrder("kafka-0", "kafka-1", "kafka-2");
            assertThat(lines)
                    .allSatisfy(l -> assertThat(l.get("state").asText()).isEqualTo("FINISHED"));
            assertThat(err).contains("3 results written").contains("batch: 3 analyses embedded, ");
            assertThat(dir.resolve("from-kafka.jsonl.dead-letters.jsonl")).doesNotExist();
        }
    }

    /** {@code count} two-photo requests over copies of the sample photos (relative URIs), one analysis each. */
    static Path writeRequests(Path dir, int count, long seed) throws Exception {
        Path photos = Files.createDirectories(dir.resolve("photos"));
        for (int n = 1; n <= 6; n++) {
            Files.copy(TestData.samplePhoto(n), photos.resolve("sample" + n + ".jpg"));
        }
        Random random = new Random(seed);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < count; i++) {
            int a = 1 + random.nextInt(6);
            int b = i % 3 == 0 ? a : 1 + random.nextInt(6);
            ObjectNode r = Json.mapper().createObjectNode();
            r.put("folder_id", "folder-" + i);
            r.putArray("analyses").addObject().put("type", "biometry").put("analyse_id", "analysis-" + i);
            var media = r.putArray("media");
            media.addObject()
                    .put("media_id", "selfie-" + a)
                    .put("media_type", "IMAGE_FOLDER")
                    .put("uri", "photos/sample" + a + ".jpg")
                    .putArray("tags")
                    .add("photo_selfie");
            media.addObject()
                    .put("media_id", "document-" + b + "-" + (i % 2))
                    .put("media_type", "IMAGE_FOLDER")
                    .put("uri", "photos/sample" + b + ".jpg")
                    .putArray("tags")
                    .add("photo_id")
                    .add("photo_id_front");
            sb.append(Json.write(r)).append('\n');
        }
        Path file = dir.resolve("requests.jsonl");
        Files.writeString(file, sb.toString());
        return file;
    }

    /**
     * Every progress line is {@code batch: N / total analyses embedded, R/s, ETA E}; N never decreases and the last
     * line, printed when the job has ended, has N = total and ETA 0 s.
     */
    private static void assertProgressReachesTheTotal(String err, long total) {
        Pattern format =
                Pattern.compile("batch: (\\d+) / " + total + " analyses embedded, (\\d+\\.\\d\\d)/s, ETA (\\d+ s|\\?)");
        List<String> progress =
                err.lines().filter(l -> l.contains("analyses embedded")).toList();
        assertThat(progress).isNotEmpty().allSatisfy(l -> assertThat(l).matches(format));
        long previous = 0;
        for (String line : progress) {
            Matcher m = format.matcher(line);
            assertThat(m.matches()).isTrue();
            long done = Long.parseLong(m.group(1));
            assertThat(done).as(line).isBetween(previous, total);
            previous = done;
        }
        Matcher last = format.matcher(progress.get(progress.size() - 1));
        assertThat(last.matches()).isTrue();
        assertThat(last.group(1)).isEqualTo(String.valueOf(total));
        assertThat(Double.parseDouble(last.group(2))).isPositive();
        assertThat(last.group(3)).isEqualTo("0 s");
    }

    static String run(String... args) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(
                args, new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true, StandardCharsets.UTF_8));
        String text = err.toString(StandardCharsets.UTF_8);
        assertThat(code).as(text).isZero();
        return text;
    }

    static List<JsonNode> readLines(Path file) throws Exception {
        return parse(Files.readString(file));
    }

    static List<JsonNode> parse(String text) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (!line.isBlank()) {
                out.add(Json.mapper().readTree(line));
            }
        }
        return out;
    }

    static Map<String, JsonNode> byId(List<JsonNode> results) {
        Map<String, JsonNode> map = new HashMap<>();
        results.forEach(r -> map.put(r.get("analyse_id").asText(), r));
        return map;
    }

    /** The result without what differs run to run: timestamps and per-media processing times. */
    static JsonNode comparable(JsonNode result) {
        ObjectNode copy = result.deepCopy();
        copy.remove("time_created");
        copy.remove("time_updated");
        copy.path("results_media").forEach(m -> ((ObjectNode) m.path("results_data")).remove("processing_ms"));
        return copy;
    }
}
