package dev.biometry.pipeline;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.biometry.api.Json;
import dev.biometry.config.JobConfig;
import dev.biometry.testing.JobMetrics;
import dev.biometry.testing.JobRun;
import dev.biometry.testing.KafkaTopicReader.Message;
import dev.biometry.testing.TestData;
import dev.biometry.testing.WebhookReceiver;
import dev.biometry.testing.WebhookReceiver.Request;
import dev.biometry.webhook.WebhookSignature;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.dag.Transformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Webhooks on the whole job: in-process Kafka, a 2-slot MiniCluster, the real face models, and receivers on
 * 127.0.0.1. Signed deliveries byte-identical to the committed results record, retries, a rejecting receiver's dead
 * letter, a refused endpoint, and a delivery pending across a stop with savepoint and a new job started from it.
 */
@org.junit.jupiter.api.Tag("integration")
class WebhookJobTest {

    private static final InMemoryReporter REPORTER = InMemoryReporter.createWithRetainedMetrics();
    private static final String SECRET = "e2e-webhook-secret";
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = JobRun.miniCluster(REPORTER);

    @TempDir
    static Path savepoints;

    private static JobRun run;
    private static JobConfig config;
    private static WebhookReceiver receiver;
    private static JobClient job;
    private static String alice;
    private static String bob;

    @BeforeAll
    static void startKafkaAndReceiver() throws Exception {
        Path samples = TestData.modelsDir().resolve("samples");
        alice = TestData.samplePhoto(3).toUri().toString();
        bob = TestData.samplePhoto(1).toUri().toString();
        run = new JobRun(Map.of(
                "media-roots", samples.toString(),
                "webhook-secret", SECRET,
                "webhook-allow-hosts", "localhost,127.0.0.1",
                "webhook-allow-http", "true",
                "webhook-allow-private", "true",
                "webhook-initial-backoff", "200ms",
                "webhook-max-backoff", "1s"));
        config = run.config();
        // Each test answers on its own path: "/<test>/..."; the script per path is set by the tests.
        receiver = new WebhookReceiver((n, request) -> {
            int status = statusFor(request.pathAndQuery());
            if (status == 200) {
                answeredOk.add(request);
            }
            return status;
        });
    }

    @BeforeEach
    void startJobOnce() throws Exception {
        if (job == null) {
            job = startJob(null);
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (job != null) {
            job.cancel().get();
        }
        if (receiver != null) {
            receiver.close();
        }
        run.close();
    }

    // ---- scenarios

    @Test
    void theFinalResultIsPostedSignedAndByteIdenticalToTheResultsRecord() throws Exception {
        String analysis = request("/signed/hook?tenant=7", media("a", alice), media("b", bob));

        Request delivery =
                receiver.await("/signed/", l -> !l.isEmpty(), TIMEOUT).get(0);
        byte[] committed = committedFinalRecord(analysis);
        assertThat(Json.mapper().readTree(committed).get("state").asText()).isEqualTo("FINISHED");
        assertThat(delivery.method()).isEqualTo("POST");
        assertThat(delivery.pathAndQuery()).isEqualTo("/signed/hook?tenant=7");
        assertThat(delivery.body()).isEqualTo(committed);
        assertThat(delivery.header("Content-Type")).isEqualTo("application/json");
        assertThat(delivery.header("Idempotency-Key")).isEqualTo(analysis + ":FINISHED");
        assertSigned(delivery);

        // Two more checkpoints (a PROCESSING record or a duplicate would be due by then), and no delivery pending.
        JobMetrics.awaitMoreCheckpoints(REPORTER, job.getJobID(), 2, TIMEOUT);
        awaitNoDeliveryPending(job.getJobID());
        assertThat(receiver.requests("/signed/")).hasSize(1);
        assertThat(counterSum(job.getJobID(), "webhooksDelivered")).isGreaterThanOrEqualTo(1);
    }

    @Test
    void aReceiverAnswering503FirstGetsTheResultLaterExactlyAsCommitted() throws Exception {
        String analysis = request("/flaky/hook", media("a", alice), media("b", bob));

        List<Request> deliveries = receiver.await("/flaky/", l -> l.size() >= 3, TIMEOUT);
        byte[] committed = committedFinalRecord(analysis);
        assertThat(deliveries).hasSize(3); // 503, 503, then 200 ends the delivery
        for (Request delivery : deliveries) {
            assertThat(delivery.body()).isEqualTo(committed);
            assertThat(delivery.header("Idempotency-Key")).isEqualTo(analysis + ":FINISHED");
            assertSigned(delivery);
        }
        assertThat(deliveries.get(1).receivedAtMillis() - deliveries.get(0).receivedAtMillis())
                .as("backoff before the first retry")
                .isGreaterThanOrEqualTo(100);
        // The 200 ended the delivery: nothing pending, so no fourth attempt can come.
        awaitNoDeliveryPending(job.getJobID());
        assertThat(receiver.requests("/flaky/")).hasSize(3);
        // Counted on this job: the two 503 answers were retried, the 200 delivered with a latency sample.
        assertThat(counterSum(job.getJobID(), "webhookRetries")).isGreaterThanOrEqualTo(2);
        assertThat(counterSum(job.getJobID(), "webhooksDelivered")).isGreaterThanOrEqualTo(1);
        assertThat(histogramSamples(job.getJobID(), "webhookLatencyMs")).isGreaterThanOrEqualTo(1);
    }

    @Test
    void aRejectingReceiverAndARefusedEndpointEndOnTheDeadLetterTopic() throws Exception {
        String gone = request("/gone/hook?sig=s3cr3t", media("a", alice)); // one media: FAILED at once, error 4
        String refused = request("https://hooks.not-allowed.example/x", media("a", alice));

        List<Message> dead = run.deadLetters.await(
                m -> {
                    String payload = m.value().get("payload").asText();
                    return payload.contains(gone) || payload.contains(refused);
                },
                l -> l.size() >= 2,
                TIMEOUT);
        JsonNode goneLetter = letterFor(dead, gone);
        assertThat(goneLetter.get("error_code").asInt()).isEqualTo(11);
        assertThat(goneLetter.get("error_message").asText())
                .contains("HTTP 410")
                .doesNotContain("s3cr3t");
        assertThat(goneLetter.get("details").asText()).isEqualTo(receiver.url("localhost", "/gone/hook"));
        assertThat(goneLetter.at("/source/topic").asText()).isEqualTo(config.resultsTopic());
        assertThat(goneLetter.get("payload").asText().getBytes(UTF_8)).isEqualTo(committedFinalRecord(gone));
        assertThat(receiver.requests("/gone/")).hasSize(1);

        JsonNode refusedLetter = letterFor(dead, refused);
        assertThat(refusedLetter.get("error_code").asInt()).isEqualTo(4);
        assertThat(refusedLetter.get("error_message").asText()).contains("not allow-listed");
        assertThat(refusedLetter.get("details").asText()).isEqualTo("https://hooks.not-allowed.example/x");
        assertThat(Json.mapper()
                        .readTree(refusedLetter.get("payload").asText())
                        .get("state")
                        .asText())
                .isEqualTo("FAILED");
        // Both dead letters were counted as failed deliveries (the 410 and the refused endpoint).
        assertThat(counterSum(job.getJobID(), "webhooksFailed")).isGreaterThanOrEqualTo(2);
    }

    /** A delivery pending while the receiver is down survives a stop with savepoint and arrives after the restart. */
    @Test
    void aDeliveryPendingAcrossAStopWithSavepointArrivesAfterTheRestart() throws Exception {
        String analysis = request("/restart/hook", media("a", alice));
        receiver.await("/restart/", l -> !l.isEmpty(), TIMEOUT); // answered 503: the delivery is pending

        String savepoint = job.stopWithSavepoint(false, savepoints.toUri().toString(), SavepointFormatType.CANONICAL)
                .get();
        job = null;
        receiverUp = true;
        job = startJob(savepoint);

        // The new job delivers the restored delivery (counted on its own metrics) and then has nothing pending. An
        // attempt the old job had in flight may reach the receiver late and get a 200 too (at least once: receivers
        // deduplicate by Idempotency-Key), so deliveries are told apart by job, not by the receiver's count.
        JobID restarted = job.getJobID();
        JobMetrics.awaitTrue(
                "the restarted job delivered",
                () -> JobMetrics.counterSum(REPORTER, restarted, "webhooksDelivered") >= 1,
                TIMEOUT);
        awaitNoDeliveryPending(restarted);
        assertThat(JobMetrics.counterSum(REPORTER, restarted, "webhooksDelivered"))
                .isEqualTo(1);
        List<Request> answered200 = answeredOk.stream()
                .filter(r -> r.pathAndQuery().startsWith("/restart/"))
                .toList();
        assertThat(answered200).hasSizeBetween(1, 2);
        byte[] committed = committedFinalRecord(analysis);
        for (Request delivered : answered200) {
            assertThat(delivered.body()).isEqualTo(committed);
            assertThat(delivered.header("Idempotency-Key")).isEqualTo(analysis + ":FAILED");
            assertSigned(delivered);
        }
    }

    /** Waits until no subtask of the job has a webhook delivery pending (each one ended: delivered or failed). */
    private static void awaitNoDeliveryPending(JobID id) throws InterruptedException {
        JobMetrics.awaitTrue(
                "no webhook delivery pending in job " + id,
                () -> !JobMetrics.named(REPORTER, id, "webhooksPending").isEmpty()
                        && JobMetrics.gaugeSum(REPORTER, id, "webhooksPending") == 0,
                TIMEOUT);
    }

    // ---- helpers

    private static volatile boolean receiverUp;
    /** The requests the receiver answered 200. */
    private static final List<Request> answeredOk = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** "/flaky/": 503 twice, then 200; "/gone/": 410; "/restart/": 503 until {@link #receiverUp}; else 200. */
    private static int statusFor(String pathAndQuery) {
        if (pathAndQuery.startsWith("/flaky/")) {
            return receiver.requests("/flaky/").size() <= 2 ? 503 : 200;
        }
        if (pathAndQuery.startsWith("/gone/")) {
            return 410;
        }
        if (pathAndQuery.startsWith("/restart/")) {
            return receiverUp ? 200 : 503;
        }
        return 200;
    }

    /** Starts the job, from {@code savepoint} when not null; fails when webhooks are not wired in. */
    private static JobClient startJob(String savepoint) throws Exception {
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        if (savepoint != null) {
            conf.set(StateRecoveryOptions.SAVEPOINT_PATH, savepoint);
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        BiometryJob.configure(env, config);
        BiometryJob.build(env, config, KafkaEndpoints.of(config));
        assertThat(hasOperator(env.getTransformations(), "webhooks"))
                .as("webhooks are wired into BiometryJob.build (WebhookStage.attach)")
                .isTrue();
        return env.executeAsync("webhook-test");
    }

    private static boolean hasOperator(List<Transformation<?>> transformations, String name) {
        for (Transformation<?> t : transformations) {
            for (Transformation<?> p : t.getTransitivePredecessors()) {
                if (name.equals(p.getName())) {
                    return true;
                }
            }
        }
        return false;
    }

    private static ObjectNode media(String id, String uri) {
        return JobRun.media("unused", id, uri, "IMAGE_FOLDER");
    }

    /**
     * Sends a request with one biometry analysis, inline media and {@code endpoint} (a path on the receiver, as
     * {@code http://localhost:port/...}, or a whole URL); returns the analysis id.
     */
    private static String request(String endpoint, ObjectNode... media) throws Exception {
        String folder = JobRun.newId();
        String analysisId = JobRun.newId();
        ObjectNode r = Json.mapper().createObjectNode();
        r.put("folder_id", folder);
        r.putArray("analyses").addObject().put("type", "biometry").put("analyse_id", analysisId);
        r.put("resolution_endpoint", endpoint.startsWith("/") ? receiver.url("localhost", endpoint) : endpoint);
        ArrayNode inline = r.putArray("media");
        for (ObjectNode m : media) {
            inline.add(m.deepCopy().put("folder_id", folder));
        }
        run.send(config.requestsTopic(), folder, Json.mapper().writeValueAsBytes(r));
        return analysisId;
    }

    /** The bytes of the one committed final record of {@code analysisId} on the results topic. */
    private static byte[] committedFinalRecord(String analysisId) throws Exception {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        try (KafkaConsumer<String, byte[]> consumer =
                new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions =
                    consumer.partitionsFor(config.resultsTopic(), Duration.ofSeconds(30)).stream()
                            .map(p -> new TopicPartition(p.topic(), p.partition()))
                            .toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            List<byte[]> finals = new ArrayList<>();
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    if (analysisId.equals(record.key())
                            && !Json.mapper()
                                    .readTree(record.value())
                                    .get("state")
                                    .asText()
                                    .equals("PROCESSING")) {
                        finals.add(record.value());
                    }
                }
                if (!finals.isEmpty()
                        && consumer.assignment().stream()
                                .allMatch(tp -> consumer.position(tp)
                                        >= consumer.endOffsets(List.of(tp)).get(tp))) {
                    assertThat(finals).as("final records of " + analysisId).hasSize(1);
                    return finals.get(0);
                }
            }
            throw new AssertionError("no committed final record of " + analysisId);
        }
    }

    private static void assertSigned(Request delivery) {
        String timestamp = delivery.header("X-Biometry-Timestamp");
        assertThat(Long.parseLong(timestamp)).isCloseTo(Instant.now().getEpochSecond(), within(120L));
        assertThat(delivery.header("X-Biometry-Signature"))
                .isEqualTo(WebhookSignature.sign(SECRET.getBytes(UTF_8), Long.parseLong(timestamp), delivery.body()));
    }

    private static JsonNode letterFor(List<Message> deadLetters, String analysisId) {
        return deadLetters.stream()
                .map(Message::value)
                .filter(v -> v.get("payload").asText().contains(analysisId))
                .findFirst()
                .orElseThrow();
    }

    /** The sum of the job's counters called {@code name} over its subtasks (fails if there is none). */
    private static long counterSum(JobID id, String name) {
        assertThat(JobMetrics.named(REPORTER, id, name)).as("metrics " + name).isNotEmpty();
        return JobMetrics.counterSum(REPORTER, id, name);
    }

    /** The samples of the job's histograms called {@code name} over its subtasks (fails if there is none). */
    private static long histogramSamples(JobID id, String name) {
        assertThat(JobMetrics.named(REPORTER, id, name)).as("metrics " + name).isNotEmpty();
        return JobMetrics.histogramCount(REPORTER, id, name);
    }
}
