package dev.biometry.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.biometry.api.Json;
import dev.biometry.config.JobConfig;
import dev.biometry.local.EmbeddedKafkaBroker;
import dev.biometry.pipeline.BiometryJob;
import dev.biometry.pipeline.KafkaEndpoints;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * One run of the biometry job for end-to-end tests: an in-process Kafka broker with the job's topics, the job on
 * the test's MiniCluster (generic types disabled, so nothing falls back to Kryo), a producer, and read_committed
 * readers of the output topics. Call {@link #startJob} from a test method (the MiniCluster is the context then).
 */
public final class JobRun implements AutoCloseable {

    public static final Duration RESULT_TIMEOUT = Duration.ofSeconds(120);

    private final EmbeddedKafkaBroker kafka;
    private final JobConfig config;
    private final KafkaProducer<String, byte[]> producer;
    public final KafkaTopicReader results;
    public final KafkaTopicReader folders;
    public final KafkaTopicReader deadLetters;
    private JobClient job;
    private BiometryJob.Durability durability;

    /** Starts Kafka and the readers; {@code options} are job options over the test defaults. */
    public JobRun(Map<String, String> options) throws Exception {
        kafka = EmbeddedKafkaBroker.start();
        Map<String, String> all = new HashMap<>();
        all.put("bootstrap-servers", kafka.bootstrapServers());
        all.put("parallelism", "2");
        all.put("checkpoint-interval", "1s");
        all.put("models", TestData.modelsDir().toString());
        all.putAll(options);
        config = JobConfig.fromOptions(all);
        kafka.createTopics(
                2,
                config.mediaTopic(),
                config.requestsTopic(),
                config.resultsTopic(),
                config.foldersTopic(),
                config.deadLetterTopic());
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        producer = new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
        results = new KafkaTopicReader(kafka.bootstrapServers(), config.resultsTopic());
        folders = new KafkaTopicReader(kafka.bootstrapServers(), config.foldersTopic());
        deadLetters = new KafkaTopicReader(kafka.bootstrapServers(), config.deadLetterTopic());
    }

    /**
     * The MiniCluster of the end-to-end tests: one task manager with 2 slots, reporting metrics to {@code reporter}
     * (register it as a static {@code @RegisterExtension} field).
     */
    public static MiniClusterExtension miniCluster(InMemoryReporter reporter) {
        return new MiniClusterExtension(() -> new MiniClusterResourceConfiguration.Builder()
                .setNumberTaskManagers(1)
                .setNumberSlotsPerTaskManager(2)
                .setConfiguration(reporter.addToConfiguration(new Configuration()))
                .build());
    }

    public JobConfig config() {
        return config;
    }

    /** Starts the job once; later calls do nothing. */
    public void startJob() throws Exception {
        if (job != null) {
            return;
        }
        start(null);
    }

    /**
     * Cancels the job, whose checkpoints are retained, and starts it again from its latest completed checkpoint, as
     * Flink restores a job after a failure; needs the {@code checkpoint-dir} option. Returns the checkpoint's
     * directory.
     */
    public Path restartFromLatestCheckpoint() throws Exception {
        if (job == null || config.checkpointDir().isEmpty()) {
            throw new IllegalStateException("restartFromLatestCheckpoint needs a started job and a checkpoint-dir");
        }
        String jobId = job.getJobID().toHexString();
        job.cancel().get();
        // Completes (exceptionally) once the job is cancelled: its last checkpoint is then final.
        job.getJobExecutionResult().handle((result, failure) -> null).get();
        Path jobDir = Path.of(URI.create(config.checkpointDir())).resolve(jobId);
        Path latest;
        try (Stream<Path> checkpoints = Files.list(jobDir)) {
            latest = checkpoints
                    .filter(p -> p.getFileName().toString().startsWith("chk-"))
                    .filter(p -> Files.exists(p.resolve("_metadata")))
                    .max(Comparator.comparingLong(
                            p -> Long.parseLong(p.getFileName().toString().substring(4))))
                    .orElseThrow(() -> new IllegalStateException("no completed checkpoint in " + jobDir));
        }
        start(latest.toUri().toString());
        return latest;
    }

    private void start(String restorePath) throws Exception {
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        // The latest checkpoint outlives a cancel, for restartFromLatestCheckpoint.
        conf.set(
                CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION,
                ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
        if (restorePath != null) {
            conf.set(StateRecoveryOptions.SAVEPOINT_PATH, restorePath);
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        durability = BiometryJob.configure(env, config);
        BiometryJob.build(env, config, KafkaEndpoints.of(config));
        job = env.executeAsync("biometry-test");
    }

    public JobClient job() {
        return job;
    }

    /** The state backend and checkpoint storage the job got. */
    public BiometryJob.Durability durability() {
        return durability;
    }

    public static String newId() {
        return UUID.randomUUID().toString();
    }

    /** A media reference of {@code type} with {@code tags} (default photo_selfie). */
    public static ObjectNode media(String folder, String id, String uri, String type, String... tags) {
        ObjectNode m = Json.mapper().createObjectNode();
        m.put("folder_id", folder);
        m.put("media_id", id);
        m.put("media_type", type);
        ArrayNode t = m.putArray("tags");
        if (tags.length == 0) {
            t.add("photo_selfie");
        }
        for (String tag : tags) {
            t.add(tag);
        }
        m.put("uri", uri);
        return m;
    }

    /** Sends a request with one biometry analysis and inline media; returns the analysis id. */
    public String request(String folder, List<String> sourceMedia, ObjectNode... media) throws Exception {
        String analysisId = newId();
        ObjectNode r = Json.mapper().createObjectNode();
        r.put("folder_id", folder);
        ObjectNode a = r.putArray("analyses").addObject();
        a.put("type", "biometry");
        a.put("analyse_id", analysisId);
        if (sourceMedia != null) {
            sourceMedia.forEach(a.putArray("source_media")::add);
        }
        a.putObject("meta_data").put("case", "test");
        if (media.length > 0) {
            ArrayNode inline = r.putArray("media");
            for (ObjectNode m : media) {
                inline.add(m);
            }
        }
        send(config.requestsTopic(), folder, Json.mapper().writeValueAsBytes(r));
        return analysisId;
    }

    public void send(String topic, String key, ObjectNode value) throws Exception {
        send(topic, key, Json.mapper().writeValueAsBytes(value));
    }

    public void send(String topic, String key, byte[] value) throws Exception {
        producer.send(new ProducerRecord<>(topic, key, value)).get();
    }

    /** The one committed final record of an analysis (fails if there is more than one). */
    public JsonNode finalResult(String analysisId) throws InterruptedException {
        List<KafkaTopicReader.Message> finals = results.await(
                m -> analysisId.equals(m.key())
                        && !m.value().get("state").asText().equals("PROCESSING"),
                l -> !l.isEmpty(),
                RESULT_TIMEOUT);
        assertThat(finals).hasSize(1);
        JsonNode result = finals.get(0).value();
        assertThat(result.get("analyse_id").asText()).isEqualTo(analysisId);
        assertThat(result.at("/meta_data/case").asText()).isEqualTo("test");
        return result;
    }

    @Override
    public void close() throws Exception {
        if (job != null) {
            job.cancel().get();
        }
        for (AutoCloseable c : new AutoCloseable[] {results, folders, deadLetters, producer, kafka}) {
            c.close();
        }
        if (durability != null && durability.temporaryDir() != null) {
            org.apache.flink.util.FileUtils.deleteDirectoryQuietly(
                    durability.temporaryDir().toFile());
        }
    }
}
