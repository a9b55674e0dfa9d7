package dev.biometry.pipeline;

import dev.biometry.api.InputParser;
import dev.biometry.config.JobConfig;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.function.Function;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.lineage.DefaultKafkaDatasetFacet;
import org.apache.flink.connector.kafka.lineage.DefaultKafkaDatasetIdentifier;
import org.apache.flink.connector.kafka.lineage.KafkaDatasetFacet;
import org.apache.flink.connector.kafka.lineage.KafkaDatasetFacetProvider;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.sink.KafkaSinkBuilder;
import org.apache.flink.connector.kafka.sink.TransactionNamingStrategy;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The job's Kafka sources (raw records of the media and requests topics) and its exactly-once Kafka sinks
 * (results, folders, dead letters), built from a {@link JobConfig}.
 */
public final class KafkaEndpoints {

    private KafkaEndpoints() {}

    public static BiometryJob.Endpoints of(JobConfig config) {
        if (config.bootstrapServers() == null || config.bootstrapServers().isBlank()) {
            throw new IllegalArgumentException("--bootstrap-servers is required");
        }
        return new BiometryJob.Endpoints(
                source(config, config.mediaTopic()),
                source(config, config.requestsTopic()),
                sink(config, "results", config.resultsTopic(), ResultRecord::analyseId, ResultRecord::json),
                sink(config, "folders", config.foldersTopic(), FolderRecord::folderId, FolderRecord::json),
                sink(config, "dead-letter", config.deadLetterTopic(), d -> null, InputParser::toJson),
                false);
    }

    static KafkaSource<RawRecord> source(JobConfig config, String topic) {
        OffsetsInitializer start = switch (config.startingOffsets()) {
            case "earliest" -> OffsetsInitializer.earliest();
            case "latest" -> OffsetsInitializer.latest();
            default -> OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST);
        };
        return KafkaSource.<RawRecord>builder()
                // First, so that the job's own settings below take precedence over the file's.
                .setProperties(config.kafkaProperties())
                .setBootstrapServers(config.bootstrapServers())
                .setTopics(topic)
                .setGroupId(config.groupId())
                .setStartingOffsets(start)
                .setDeserializer(new RawRecordDeserializer())
                .setProperty("isolation.level", "read_committed")
                .setProperty("partition.discovery.interval.ms", "60000")
                .build();
    }

    /**
     * How a job sink writes to Kafka: its delivery guarantee, its transactional id prefix (one per sink) and naming
     * strategy, and the producer properties ({@code --kafka-properties-file}, then bootstrap servers, {@code transaction.timeout.ms},
     * {@code max.request.size}).
     */
    record SinkSettings(
            DeliveryGuarantee deliveryGuarantee,
            String transactionalIdPrefix,
            TransactionNamingStrategy transactionNaming,
            Properties producerProperties) {}

    /**
     * The settings of the sink called {@code name}: exactly once, in transactions committed with the checkpoints, or
     * (with {@code --delivery-guarantee at-least-once}) without transactions, flushed on each checkpoint.
     */
    static SinkSettings sinkSettings(JobConfig config, String name) {
        Properties producer = config.kafkaProperties();
        producer.setProperty(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        if (config.exactlyOnce()) {
            producer.setProperty(
                    ProducerConfig.TRANSACTION_TIMEOUT_CONFIG,
                    String.valueOf(config.transactionTimeout().toMillis()));
            // read_committed readers see a record only when its checkpoint's transaction commits, and the sink
            // flushes the producer before every checkpoint: lingering until then delays no reader, and sends a
            // checkpoint's records in as few produce requests as batch.size allows (in `bench`, whose broker shares
            // the job's cores: 17-22 produce requests a second against 134-165 with Kafka's 5 ms linger). Capped so
            // that linger.ms + request.timeout.ms stays within Kafka's default delivery.timeout.ms. A linger.ms of
            // --kafka-properties-file wins.
            producer.putIfAbsent(
                    ProducerConfig.LINGER_MS_CONFIG,
                    String.valueOf(
                            Math.min(config.checkpointInterval().toMillis(), MAX_EXACTLY_ONCE_LINGER.toMillis())));
        }
        // Records are bounded to --max-record-bytes before the sinks (OutputBounds); the margin covers the key
        // (an id of at most 256 chars) and the record overhead, so the producer never refuses one.
        producer.setProperty(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, String.valueOf(maxRequestSize(config)));
        return new SinkSettings(
                config.exactlyOnce() ? DeliveryGuarantee.EXACTLY_ONCE : DeliveryGuarantee.AT_LEAST_ONCE,
                config.transactionalIdPrefix() + "-" + name,
                config.transactionNaming() == JobConfig.TransactionNaming.POOLING
                        ? TransactionNamingStrategy.POOLING
                        : TransactionNamingStrategy.INCREMENTING,
                producer);
    }

    /** The producers' {@code max.request.size}: {@code --max-record-bytes} plus {@link #RECORD_MARGIN_BYTES}. */
    static int maxRequestSize(JobConfig config) {
        return config.maxRecordBytes() + RECORD_MARGIN_BYTES;
    }

    /** The longest {@code linger.ms} the exactly-once sinks take from the checkpoint interval. */
    static final Duration MAX_EXACTLY_ONCE_LINGER = Duration.ofSeconds(1);

    /** Room above the largest record value for its key and the record and batch headers. */
    static final int RECORD_MARGIN_BYTES = 16 * 1024;

    static <T> Sink<T> sink(
            JobConfig config,
            String name,
            String topic,
            SerializableFunction<T, String> key,
            SerializableFunction<T, String> value) {
        SinkSettings settings = sinkSettings(config, name);
        KafkaSinkBuilder<T> builder = KafkaSink.<T>builder()
                .setDeliveryGuarantee(settings.deliveryGuarantee())
                .setTransactionalIdPrefix(settings.transactionalIdPrefix())
                .setTransactionNamingStrategy(settings.transactionNaming())
                .setRecordSerializer(new JsonRecordSerializer<>(topic, key, value));
        settings.producerProperties()
                .stringPropertyNames()
                .forEach(p ->
                        builder.setProperty(p, settings.producerProperties().getProperty(p)));
        return builder.build();
    }

    /** A function that Flink can ship to the task managers. */
    public interface SerializableFunction<T, R> extends Function<T, R>, java.io.Serializable {}

    /** Keeps topic, partition, offset and the raw bytes so that parse errors can name their source. */
    static final class RawRecordDeserializer implements KafkaRecordDeserializationSchema<RawRecord> {
        private static final long serialVersionUID = 1L;

        @Override
        public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<RawRecord> out) {
            out.collect(
                    new RawRecord(record.topic(), record.partition(), record.offset(), record.key(), record.value()));
        }

        @Override
        public TypeInformation<RawRecord> getProducedType() {
            return TypeInformation.of(RawRecord.class);
        }
    }

    /**
     * Writes a record as UTF-8 JSON with a UTF-8 string key (or no key). Names its topic to Flink's lineage, so the
     * sink's lineage vertex shows the topic and the producer properties it writes with.
     */
    static final class JsonRecordSerializer<T> implements KafkaRecordSerializationSchema<T>, KafkaDatasetFacetProvider {
        private static final long serialVersionUID = 1L;
        private final String topic;
        private final SerializableFunction<T, String> key;
        private final SerializableFunction<T, String> value;

        JsonRecordSerializer(String topic, SerializableFunction<T, String> key, SerializableFunction<T, String> value) {
            this.topic = topic;
            this.key = key;
            this.value = value;
        }

        @Override
        public Optional<KafkaDatasetFacet> getKafkaDatasetFacet() {
            return Optional.of(new DefaultKafkaDatasetFacet(DefaultKafkaDatasetIdentifier.ofTopics(List.of(topic))));
        }

        @Override
        public ProducerRecord<byte[], byte[]> serialize(T element, KafkaSinkContext context, Long timestamp) {
            String k = key.apply(element);
            return new ProducerRecord<>(
                    topic,
                    null,
                    timestamp,
                    k == null ? null : k.getBytes(StandardCharsets.UTF_8),
                    value.apply(element).getBytes(StandardCharsets.UTF_8));
        }
    }
}
