package dev.biometry.pipeline;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.biometry.api.DeadLetter;
import dev.biometry.api.Json;
import dev.biometry.config.JobConfig;
import dev.biometry.local.EmbeddedKafkaBroker;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.lineage.DefaultKafkaDatasetFacet;
import org.apache.flink.connector.kafka.lineage.KafkaDatasetFacet;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.sink.TransactionNamingStrategy;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.environment.CheckpointConfig;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.lineage.LineageVertex;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.coordinator.transaction.TransactionStateManagerConfig;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sinks and sources {@link KafkaEndpoints#of} builds: each sink writes exactly once (transactions committed with
 * the checkpoints) to its own topic with its own transactional-id prefix and the configured producer properties, the
 * sources read committed records only, and the job checkpoints. Topics and producer properties are read from the
 * built sinks' Flink lineage; delivery guarantee and prefix from their fields (KafkaSink has no getters for them).
 */
class KafkaEndpointsTest {

    private static final JobConfig CONFIG = JobConfig.fromOptions(Map.of(
            "bootstrap-servers",
            "broker-1:9092",
            "transactional-id-prefix",
            "bio-test",
            "transaction-timeout",
            "7m",
            "checkpoint-interval",
            "4s",
            "max-record-bytes",
            "900000"));

    @Test
    void everySinkIsExactlyOnceToItsOwnTopicWithItsOwnTransactionalIdsAndTheConfiguredProducer() throws Exception {
        BiometryJob.Endpoints endpoints = KafkaEndpoints.of(CONFIG);
        assertThat(endpoints.finalResultsOnly())
                .as("PROCESSING records go to the results topic too")
                .isFalse();

        Map<String, BuiltSink> sinks = Map.of(
                "results", BuiltSink.of(endpoints.results()),
                "folders", BuiltSink.of(endpoints.folders()),
                "dead-letter", BuiltSink.of(endpoints.deadLetters()));
        assertThat(sinks.get("results").topic()).isEqualTo(CONFIG.resultsTopic());
        assertThat(sinks.get("folders").topic()).isEqualTo(CONFIG.foldersTopic());
        assertThat(sinks.get("dead-letter").topic()).isEqualTo(CONFIG.deadLetterTopic());
        sinks.forEach((name, sink) -> {
            assertThat(sink.deliveryGuarantee()).as(name).isEqualTo(DeliveryGuarantee.EXACTLY_ONCE);
            assertThat(sink.transactionalIdPrefix()).as(name).isEqualTo("bio-test-" + name);
            assertThat(sink.transactionNaming()).as(name).isEqualTo(TransactionNamingStrategy.POOLING);
            assertThat(sink.producer())
                    .as(name)
                    .containsEntry("transaction.timeout.ms", "420000")
                    .containsEntry("bootstrap.servers", "broker-1:9092")
                    .containsEntry("max.request.size", String.valueOf(900000 + 16 * 1024));
        });
        // Sinks sharing a prefix would abort each other's transactions on restart.
        assertThat(sinks.values()).extracting(BuiltSink::transactionalIdPrefix).doesNotHaveDuplicates();
    }

    @Test
    void eachSinkWritesItsRecordsAsUtf8JsonKeyedByItsId() throws Exception {
        BiometryJob.Endpoints endpoints = KafkaEndpoints.of(CONFIG);

        ProducerRecord<byte[], byte[]> result = BuiltSink.of(endpoints.results())
                .serialize(new ResultRecord(
                        "an-\u00e9", "folder-1", "FINISHED", "SUCCESS", null, "{\"state\":\"FINISHED\"}"));
        assertThat(result.topic()).isEqualTo(CONFIG.resultsTopic());
        assertThat(new String(result.key(), UTF_8)).isEqualTo("an-\u00e9");
        assertThat(new String(result.value(), UTF_8)).isEqualTo("{\"state\":\"FINISHED\"}");

        ProducerRecord<byte[], byte[]> folder = BuiltSink.of(endpoints.folders())
                .serialize(new FolderRecord("folder-1", "FINISHED", "{\"folder_id\":\"folder-1\"}"));
        assertThat(folder.topic()).isEqualTo(CONFIG.foldersTopic());
        assertThat(new String(folder.key(), UTF_8)).isEqualTo("folder-1");

        ProducerRecord<byte[], byte[]> dead = BuiltSink.of(endpoints.deadLetters())
                .serialize(new DeadLetter(3, "not JSON", null, CONFIG.requestsTopic(), 1, 42L, "{ x", false));
        assertThat(dead.topic()).isEqualTo(CONFIG.deadLetterTopic());
        assertThat(dead.key()).as("dead letters have no key").isNull();
        JsonNode letter = Json.mapper().readTree(dead.value());
        assertThat(letter.get("error_code").asInt()).isEqualTo(3);
        assertThat(letter.at("/source/topic").asText()).isEqualTo(CONFIG.requestsTopic());
        assertThat(letter.at("/source/offset").asLong()).isEqualTo(42L);
    }

    @Test
    void bothSourcesReadCommittedRecordsOfTheirTopicInTheJobsGroup() throws Exception {
        BiometryJob.Endpoints endpoints = KafkaEndpoints.of(CONFIG);
        Map<Source<RawRecord, ?, ?>, String> topics =
                Map.of(endpoints.media(), CONFIG.mediaTopic(), endpoints.requests(), CONFIG.requestsTopic());
        topics.forEach((source, topic) -> {
            KafkaDatasetFacet facet = kafkaFacet(((KafkaSource<RawRecord>) source).getLineageVertex());
            assertThat(facet.getTopicIdentifier().getTopics()).containsExactly(topic);
            assertThat(facet.getProperties())
                    .containsEntry("isolation.level", "read_committed")
                    .containsEntry("bootstrap.servers", "broker-1:9092")
                    .containsEntry("group.id", CONFIG.groupId());
        });
    }

    /**
     * 10 min: 5 min below the brokers' default maximum (15 min), and at least (2 tolerated failed checkpoints + 1) x
     * (checkpoint interval + checkpoint timeout), the longest a transaction stays open (checked at start).
     */
    @Test
    void theDefaultTransactionTimeoutOutlastsTheCheckpointsAndStaysBelowTheBrokersDefaultMaximum() throws Exception {
        JobConfig defaults = JobConfig.fromOptions(Map.of("bootstrap-servers", "broker-1:9092"));
        long timeout = Long.parseLong(
                BuiltSink.of(KafkaEndpoints.of(defaults).results()).producer().getProperty("transaction.timeout.ms"));

        assertThat(timeout)
                .isEqualTo(Duration.ofMinutes(10).toMillis())
                .isLessThanOrEqualTo(TransactionStateManagerConfig.TRANSACTIONS_MAX_TIMEOUT_MS_DEFAULT - 5 * 60_000L)
                .isLessThanOrEqualTo(EmbeddedKafkaBroker.TRANSACTION_MAX_TIMEOUT.toMillis() - 5 * 60_000L);
        long longestOpen = (BiometryJob.TOLERABLE_CHECKPOINT_FAILURES + 1L)
                * (defaults.checkpointInterval()
                        .plus(BiometryJob.CHECKPOINT_TIMEOUT)
                        .toMillis());
        assertThat(timeout).isGreaterThanOrEqualTo(longestOpen);
        BiometryJob.checkTransactionTimeout(
                defaults, BiometryJob.CHECKPOINT_TIMEOUT, BiometryJob.TOLERABLE_CHECKPOINT_FAILURES); // does not throw
    }

    /** The in-process broker accepts a transaction of the default timeout and refuses one above its maximum. */
    @Test
    @Tag("integration")
    void theInProcessBrokerAcceptsTheDefaultTransactionTimeout() {
        JobConfig defaults = JobConfig.fromOptions(Map.of("bootstrap-servers", "broker-1:9092"));
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start()) {
            assertThatCode(() -> initTransactions(broker, defaults.transactionTimeout()))
                    .doesNotThrowAnyException();
            assertThatThrownBy(
                            () -> initTransactions(broker, EmbeddedKafkaBroker.TRANSACTION_MAX_TIMEOUT.plusMinutes(1)))
                    .hasMessageContaining("transaction.max.timeout.ms");
        }
    }

    private static void initTransactions(EmbeddedKafkaBroker broker, Duration timeout) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "timeout-probe-" + timeout.toMillis());
        p.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, String.valueOf(timeout.toMillis()));
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "60000");
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.initTransactions();
        }
    }

    /**
     * The default transactional-id prefix is the job's: {@code <group-id>.<results-topic>}, the same on a restart of
     * the job and different for another job (another group id), so two jobs never fence each other's producers.
     */
    @Test
    void theDefaultTransactionalIdPrefixIsPerJob() throws Exception {
        JobConfig job = JobConfig.fromOptions(Map.of("bootstrap-servers", "b:9092", "group-id", "tenant-a"));
        JobConfig restarted = JobConfig.fromOptions(Map.of("bootstrap-servers", "b:9092", "group-id", "tenant-a"));
        JobConfig other = JobConfig.fromOptions(Map.of("bootstrap-servers", "b:9092", "group-id", "tenant-b"));
        JobConfig otherTopic = JobConfig.fromOptions(
                Map.of("bootstrap-servers", "b:9092", "group-id", "tenant-a", "results-topic", "tenant-a.results"));

        assertThat(resultsPrefix(job))
                .isEqualTo("tenant-a.biometry.results-results")
                .isEqualTo(resultsPrefix(restarted))
                .isNotEqualTo(resultsPrefix(other))
                .isNotEqualTo(resultsPrefix(otherTopic));
        assertThat(BuiltSink.of(KafkaEndpoints.of(JobConfig.fromOptions(Map.of("bootstrap-servers", "b:9092")))
                                .folders())
                        .transactionalIdPrefix())
                .as("defaults")
                .isEqualTo("biometry.biometry.results-folders");
        assertThat(resultsPrefix(CONFIG)).as("the option wins").isEqualTo("bio-test-results");
    }

    /**
     * Records are bounded to --max-record-bytes before the sinks; the producers accept that plus the key and headers,
     * and a record of that size still fits the broker's default message.max.bytes.
     */
    @Test
    void theProducersMaxRequestSizeCoversTheLargestBoundedRecordAndFitsTheBrokersDefault() throws Exception {
        JobConfig defaults = JobConfig.fromOptions(Map.of("bootstrap-servers", "broker-1:9092"));
        BiometryJob.Endpoints endpoints = KafkaEndpoints.of(defaults);
        for (Sink<?> sink : List.of(endpoints.results(), endpoints.folders(), endpoints.deadLetters())) {
            int maxRequestSize = Integer.parseInt(BuiltSink.of(sink).producer().getProperty("max.request.size"));
            assertThat(maxRequestSize).isEqualTo(defaults.maxRecordBytes() + 16 * 1024);
            // The largest key: a 256-char id of 4-byte characters.
            assertThat(defaults.maxRecordBytes() + 256 * 4 + 1024)
                    .isLessThanOrEqualTo(org.apache.kafka.server.config.ServerLogConfigs.MAX_MESSAGE_BYTES_DEFAULT);
        }
    }

    @Test
    void theJobCheckpointsExactlyOnceAtTheConfiguredInterval() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        assertThat(env.getCheckpointConfig().isCheckpointingEnabled())
                .as("off until configured")
                .isFalse();

        BiometryJob.configure(env, CONFIG);

        CheckpointConfig checkpoints = env.getCheckpointConfig();
        assertThat(checkpoints.isCheckpointingEnabled()).isTrue();
        assertThat(checkpoints.getCheckpointInterval()).isEqualTo(4_000L);
        assertThat(checkpoints.getCheckpointingConsistencyMode()).isEqualTo(CheckpointingMode.EXACTLY_ONCE);
    }

    @Test
    void atLeastOnceSinksWriteWithoutTransactionsAndSkipTheTransactionTimeoutCheck() throws Exception {
        // A transaction timeout far below 3 x (interval + checkpoint timeout): refused for exactly-once, irrelevant
        // without transactions.
        Map<String, String> options =
                Map.of("bootstrap-servers", "broker-1:9092", "transaction-timeout", "30s", "checkpoint-interval", "5s");
        assertThatThrownBy(() -> BiometryJob.configure(
                        StreamExecutionEnvironment.getExecutionEnvironment(), JobConfig.fromOptions(options)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--transaction-timeout");

        Map<String, String> atLeastOnce = new java.util.HashMap<>(options);
        atLeastOnce.put("delivery-guarantee", "at-least-once");
        JobConfig config = JobConfig.fromOptions(atLeastOnce);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        BiometryJob.configure(env, config);
        assertThat(env.getCheckpointConfig().getCheckpointInterval())
                .as("the sinks still flush on every checkpoint, and the sources commit offsets")
                .isEqualTo(5_000L);

        BiometryJob.Endpoints endpoints = KafkaEndpoints.of(config);
        for (Sink<?> sink : List.of(endpoints.results(), endpoints.folders(), endpoints.deadLetters())) {
            BuiltSink built = BuiltSink.of(sink);
            assertThat(built.deliveryGuarantee()).isEqualTo(DeliveryGuarantee.AT_LEAST_ONCE);
            assertThat(built.producer()).doesNotContainKey("transaction.timeout.ms");
        }
    }

    @Test
    void exactlyOnceSinksLingerUntilTheCheckpointUnlessTheKafkaPropertiesFileSaysOtherwise(@TempDir Path dir)
            throws Exception {
        // read_committed readers see nothing before the commit, so lingering up to the checkpoint delays no one.
        JobConfig fast =
                JobConfig.fromOptions(Map.of("bootstrap-servers", "broker-1:9092", "checkpoint-interval", "200ms"));
        assertThat(BuiltSink.of(KafkaEndpoints.of(fast).results()).producer()).containsEntry("linger.ms", "200");
        assertThat(BuiltSink.of(KafkaEndpoints.of(CONFIG).folders()).producer())
                .as("4 s checkpoints: capped so that linger + request timeout fit Kafka's delivery timeout")
                .containsEntry("linger.ms", "1000");

        Path file = dir.resolve("client.properties");
        Files.writeString(file, "linger.ms=5\n");
        JobConfig given = JobConfig.fromOptions(Map.of(
                "bootstrap-servers",
                "broker-1:9092",
                "checkpoint-interval",
                "200ms",
                "kafka-properties-file",
                file.toString()));
        assertThat(BuiltSink.of(KafkaEndpoints.of(given).deadLetters()).producer())
                .containsEntry("linger.ms", "5");

        // Without transactions a record is readable once written: Kafka's own linger (5 ms) stays.
        JobConfig atLeastOnce = JobConfig.fromOptions(Map.of(
                "bootstrap-servers",
                "broker-1:9092",
                "checkpoint-interval",
                "200ms",
                "delivery-guarantee",
                "at-least-once"));
        assertThat(BuiltSink.of(KafkaEndpoints.of(atLeastOnce).results()).producer())
                .doesNotContainKey("linger.ms");
    }

    @Test
    void theTransactionNamingStrategyIsAnOption() throws Exception {
        JobConfig config = JobConfig.fromOptions(
                Map.of("bootstrap-servers", "broker-1:9092", "transaction-naming", "incrementing"));
        BiometryJob.Endpoints endpoints = KafkaEndpoints.of(config);
        for (Sink<?> sink : List.of(endpoints.results(), endpoints.folders(), endpoints.deadLetters())) {
            assertThat(BuiltSink.of(sink).transactionNaming()).isEqualTo(TransactionNamingStrategy.INCREMENTING);
        }
        assertThatThrownBy(() -> JobConfig.fromOptions(Map.of("transaction-naming", "random")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--transaction-naming must be one of incrementing, pooling");
    }

    @Test
    void everyStageSendsItsNetworkBuffersAfterTheConfiguredBufferTimeout() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        BiometryJob.configure(env, CONFIG);
        assertThat(env.getBufferTimeout())
                .as("the job's default, not Flink's 100 ms")
                .isEqualTo(25L);

        StreamExecutionEnvironment flushEveryRecord = StreamExecutionEnvironment.getExecutionEnvironment();
        BiometryJob.configure(
                flushEveryRecord,
                JobConfig.fromOptions(Map.of("bootstrap-servers", "broker-1:9092", "buffer-timeout", "0")));
        assertThat(flushEveryRecord.getBufferTimeout()).isZero();
        assertThatThrownBy(() -> JobConfig.fromOptions(Map.of("buffer-timeout", "-5ms")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--buffer-timeout");
    }

    @Test
    void aKafkaPropertiesFileReachesTheSourcesAndSinksWithoutOverridingTheJobsOwnSettings(@TempDir Path dir)
            throws Exception {
        Path file = dir.resolve("client.properties");
        Files.writeString(
                file,
                String.join(
                        "\n",
                        "security.protocol=SASL_SSL",
                        "sasl.mechanism=SCRAM-SHA-512",
                        "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"bio\" password=\"s3cret\";",
                        "ssl.truststore.location=/etc/biometry/kafka/truststore.p12",
                        "isolation.level=read_uncommitted",
                        "transaction.timeout.ms=1000",
                        "bootstrap.servers=elsewhere:9092"));
        JobConfig config = JobConfig.fromOptions(Map.of(
                "bootstrap-servers",
                "broker-1:9092",
                "kafka-properties-file",
                file.toString(),
                "transaction-timeout",
                "7m"));

        Properties producer = BuiltSink.of(KafkaEndpoints.of(config).results()).producer();
        assertThat(producer)
                .containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("sasl.mechanism", "SCRAM-SHA-512")
                .containsEntry("ssl.truststore.location", "/etc/biometry/kafka/truststore.p12")
                .containsEntry("transaction.timeout.ms", "420000")
                .containsEntry("bootstrap.servers", "broker-1:9092");
        Properties consumer = kafkaFacet(
                        ((KafkaSource<RawRecord>) KafkaEndpoints.of(config).media()).getLineageVertex())
                .getProperties();
        assertThat(consumer)
                .containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("ssl.truststore.location", "/etc/biometry/kafka/truststore.p12")
                .containsEntry("isolation.level", "read_committed")
                .containsEntry("bootstrap.servers", "broker-1:9092");
        // Only the file's name travels with the job configuration.
        assertThat(config.toString()).doesNotContain("s3cret");
    }

    @Test
    void aMissingKafkaPropertiesFileFailsAtStartUpNamingTheOption() {
        assertThatThrownBy(() -> JobConfig.fromOptions(Map.of(
                        "bootstrap-servers", "b:9092", "kafka-properties-file", "/nonexistent/client.properties")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--kafka-properties-file");
    }

    // ---- helpers

    private static String resultsPrefix(JobConfig config) throws Exception {
        return BuiltSink.of(KafkaEndpoints.of(config).results()).transactionalIdPrefix();
    }

    private static KafkaDatasetFacet kafkaFacet(LineageVertex vertex) {
        assertThat(vertex.datasets()).hasSize(1);
        return (KafkaDatasetFacet) vertex.datasets().get(0).facets().get(DefaultKafkaDatasetFacet.KAFKA_FACET_NAME);
    }

    /** What a built KafkaSink writes with. */
    private record BuiltSink(
            String topic,
            Properties producer,
            DeliveryGuarantee deliveryGuarantee,
            String transactionalIdPrefix,
            TransactionNamingStrategy transactionNaming,
            KafkaRecordSerializationSchema<Object> serializer) {

        @SuppressWarnings("unchecked")
        static BuiltSink of(Sink<?> sink) throws Exception {
            assertThat(sink).isInstanceOf(KafkaSink.class);
            KafkaDatasetFacet facet = kafkaFacet(((KafkaSink<?>) sink).getLineageVertex());
            assertThat(facet.getTopicIdentifier().getTopics()).hasSize(1);
            return new BuiltSink(
                    facet.getTopicIdentifier().getTopics().get(0),
                    facet.getProperties(),
                    (DeliveryGuarantee) field(sink, "deliveryGuarantee"),
                    (String) field(sink, "transactionalIdPrefix"),
                    (TransactionNamingStrategy) field(sink, "transactionNamingStrategy"),
                    (KafkaRecordSerializationSchema<Object>) field(sink, "recordSerializer"));
        }

        ProducerRecord<byte[], byte[]> serialize(Object element) {
            return serializer.serialize(element, null, 1L);
        }

        private static Object field(Sink<?> sink, String name) throws Exception {
            Field f = KafkaSink.class.getDeclaredField(name);
            f.setAccessible(true);
            return f.get(sink);
        }
    }
}
