package dev.biometry.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.biometry.config.JobConfig;
import dev.biometry.local.EmbeddedKafkaBroker;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.environment.CheckpointConfig;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.coordinator.transaction.TransactionStateManagerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job's Kafka sinks write exactly once (transactions committed with the checkpoints) with the configured
 * {@code transaction.timeout.ms}, and the job checkpoints. KafkaSink has no public getters, so the settings the
 * sinks are built from ({@link KafkaEndpoints#sinkSettings}) are checked.
 */
class KafkaEndpointsTest {

    private static final JobConfig CONFIG = JobConfig.fromOptions(Map.of(
            "bootstrap-servers", "broker-1:9092", "transactional-id-prefix", "bio-test",
            "transaction-timeout", "7m", "checkpoint-interval", "4s"));

    /** The names {@link KafkaEndpoints#of} gives its three sinks. */
    private static final List<String> SINKS = List.of("results", "folders", "dead-letter");

    @Test
    void everySinkIsExactlyOnceWithItsOwnTransactionalIdsAndTheConfiguredTimeout() {
        BiometryJob.Endpoints endpoints = KafkaEndpoints.of(CONFIG);
        assertThat(List.of(endpoints.results(), endpoints.folders(), endpoints.deadLetters()))
                .allSatisfy(sink -> assertThat(sink).isInstanceOf(KafkaSink.class));
        assertThat(endpoints.finalResultsOnly()).as("PROCESSING records go to the results topic too").isFalse();

        List<KafkaEndpoints.SinkSettings> settings =
                SINKS.stream().map(name -> KafkaEndpoints.sinkSettings(CONFIG, name)).toList();
        assertThat(settings).allSatisfy(s -> {
            assertThat(s.deliveryGuarantee()).isEqualTo(DeliveryGuarantee.EXACTLY_ONCE);
            assertThat(s.transactionalIdPrefix()).startsWith("bio-test-");
            Properties producer = s.producerProperties();
            assertThat(producer.getProperty("transaction.timeout.ms")).isEqualTo("420000");
            assertThat(producer.getProperty("bootstrap.servers")).isEqualTo("broker-1:9092");
        });
        // Sinks sharing a prefix would abort each other's transactions on restart.
        assertThat(settings).extracting(KafkaEndpoints.SinkSettings::transactionalIdPrefix).doesNotHaveDuplicates();
    }

    /**
     * 10 min: 5 min below the brokers' default maximum (15 min), and at least (2 tolerated failed checkpoints + 1) x
     * (checkpoint interval + checkpoint timeout), the longest a transaction stays open (checked at start).
     */
    @Test
    void theDefaultTransactionTimeoutOutlastsTheCheckpointsAndStaysBelowTheBrokersDefaultMaximum() {
        JobConfig defaults = JobConfig.fromOptions(Map.of("bootstrap-servers", "broker-1:9092"));
        long timeout = Long.parseLong(
                KafkaEndpoints.sinkSettings(defaults, "results").producerProperties().getProperty("transaction.timeout.ms"));

        assertThat(timeout).isEqualTo(Duration.ofMinutes(10).toMillis())
                .isLessThanOrEqualTo(TransactionStateManagerConfig.TRANSACTIONS_MAX_TIMEOUT_MS_DEFAULT - 5 * 60_000L)
                .isLessThanOrEqualTo(EmbeddedKafkaBroker.TRANSACTION_MAX_TIMEOUT.toMillis() - 5 * 60_000L);
        long longestOpen = (BiometryJob.TOLERABLE_CHECKPOINT_FAILURES + 1L)
                * (defaults.checkpointInterval().plus(BiometryJob.CHECKPOINT_TIMEOUT).toMillis());
        assertThat(timeout).isGreaterThanOrEqualTo(longestOpen);
        BiometryJob.checkTransactionTimeout(defaults, BiometryJob.CHECKPOINT_TIMEOUT,
                BiometryJob.TOLERABLE_CHECKPOINT_FAILURES); // does not throw
    }

    /** The in-process broker accepts a transaction of the default timeout and refuses one above its maximum. */
    @Test
    void theInProcessBrokerAcceptsTheDefaultTransactionTimeout() {
        JobConfig defaults = JobConfig.fromOptions(Map.of("bootstrap-servers", "broker-1:9092"));
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start()) {
            assertThatCode(() -> initTransactions(broker, defaults.transactionTimeout())).doesNotThrowAnyException();
            assertThatThrownBy(() -> initTransactions(broker, EmbeddedKafkaBroker.TRANSACTION_MAX_TIMEOUT.plusMinutes(1)))
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
    void theDefaultTransactionalIdPrefixIsPerJob() {
        JobConfig job = JobConfig.fromOptions(Map.of("bootstrap-servers", "b:9092", "group-id", "tenant-a"));
        JobConfig restarted = JobConfig.fromOptions(Map.of("bootstrap-servers", "b:9092", "group-id", "tenant-a"));
        JobConfig other = JobConfig.fromOptions(Map.of("bootstrap-servers", "b:9092", "group-id", "tenant-b"));
        JobConfig otherTopic = JobConfig.fromOptions(Map.of("bootstrap-servers", "b:9092", "group-id", "tenant-a",
                "results-topic", "tenant-a.results"));

        assertThat(KafkaEndpoints.sinkSettings(job, "results").transactionalIdPrefix())
                .isEqualTo("tenant-a.biometry.results-results")
                .isEqualTo(KafkaEndpoints.sinkSettings(restarted, "results").transactionalIdPrefix())
                .isNotEqualTo(KafkaEndpoints.sinkSettings(other, "results").transactionalIdPrefix())
                .isNotEqualTo(KafkaEndpoints.sinkSettings(otherTopic, "results").transactionalIdPrefix());
        assertThat(KafkaEndpoints.sinkSettings(JobConfig.fromOptions(Map.of("bootstrap-servers", "b:9092")), "folders")
                .transactionalIdPrefix()).as("defaults").isEqualTo("biometry.biometry.results-folders");
        assertThat(KafkaEndpoints.sinkSettings(CONFIG, "results").transactionalIdPrefix())
                .as("the option wins").isEqualTo("bio-test-results");
    }

    /**
     * Records are bounded to --max-record-bytes before the sinks; the producers accept that plus the key and headers,
     * and a record of that size still fits the broker's default message.max.bytes.
     */
    @Test
    void theProducersMaxRequestSizeCoversTheLargestBoundedRecordAndFitsTheBrokersDefault() {
        JobConfig defaults = JobConfig.fromOptions(Map.of("bootstrap-servers", "broker-1:9092"));
        for (String sink : SINKS) {
            int maxRequestSize = Integer.parseInt(
                    KafkaEndpoints.sinkSettings(defaults, sink).producerProperties().getProperty("max.request.size"));
            assertThat(maxRequestSize).isEqualTo(defaults.maxRecordBytes() + 16 * 1024);
            // The largest key: a 256-char id of 4-byte characters.
            assertThat(defaults.maxRecordBytes() + 256 * 4 + 1024)
                    .isLessThanOrEqualTo(org.apache.kafka.server.config.ServerLogConfigs.MAX_MESSAGE_BYTES_DEFAULT);
        }
    }

    @Test
    void theJobCheckpointsExactlyOnceAtTheConfiguredInterval() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        assertThat(env.getCheckpointConfig().isCheckpointingEnabled()).as("off until configured").isFalse();

        BiometryJob.configure(env, CONFIG);

        CheckpointConfig checkpoints = env.getCheckpointConfig();
        assertThat(checkpoints.isCheckpointingEnabled()).isTrue();
        assertThat(checkpoints.getCheckpointInterval()).isEqualTo(4_000L);
        assertThat(checkpoints.getCheckpointingConsistencyMode()).isEqualTo(CheckpointingMode.EXACTLY_ONCE);
    }

    @Test
    void aKafkaPropertiesFileReachesTheSourcesAndSinksWithoutOverridingTheJobsOwnSettings(@TempDir Path dir)
            throws Exception {
        Path file = dir.resolve("client.properties");
        Files.writeString(file, String.join("\n",
                "security.protocol=SASL_SSL",
                "sasl.mechanism=SCRAM-SHA-512",
                "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"bio\" password=\"s3cret\";",
                "ssl.truststore.location=/etc/biometry/kafka/truststore.p12",
                "isolation.level=read_uncommitted",
                "transaction.timeout.ms=1000",
                "bootstrap.servers=elsewhere:9092"));
        JobConfig config = JobConfig.fromOptions(Map.of("bootstrap-servers", "broker-1:9092",
                "kafka-properties-file", file.toString(), "transaction-timeout", "7m"));

        Properties producer = KafkaEndpoints.sinkSettings(config, "results").producerProperties();
        assertThat(producer).containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("sasl.mechanism", "SCRAM-SHA-512")
                .containsEntry("ssl.truststore.location", "/etc/biometry/kafka/truststore.p12")
                .containsEntry("transaction.timeout.ms", "420000")
                .containsEntry("bootstrap.servers", "broker-1:9092");
        Field props = KafkaSource.class.getDeclaredField("props");
        props.setAccessible(true);
        Properties consumer = (Properties) props.get(KafkaEndpoints.source(config, "biometry.media"));
        assertThat(consumer).containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("ssl.truststore.location", "/etc/biometry/kafka/truststore.p12")
                .containsEntry("isolation.level", "read_committed")
                .containsEntry("bootstrap.servers", "broker-1:9092");
        // Only the file's name travels with the job configuration.
        assertThat(config.toString()).doesNotContain("s3cret");
    }

    @Test
    void aMissingKafkaPropertiesFileFailsAtStartUpNamingTheOption() {
        assertThatThrownBy(() -> JobConfig.fromOptions(Map.of("bootstrap-servers", "b:9092",
                "kafka-properties-file", "/nonexistent/client.properties")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--kafka-properties-file");
    }
}
