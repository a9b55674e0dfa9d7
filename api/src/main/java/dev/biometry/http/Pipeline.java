package dev.biometry.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.biometry.api.Json;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The API's side of Kafka: publishes media (key folder_id) and analysis requests (key folder_id) to the job's input
 * topics; a consumer in the group {@code --group-id} stores every committed result and folder roll-up
 * ({@code read_committed}), committing its offsets after the store has them; and each instance follows the results
 * topic from its end with a group-less consumer to wake the calls that wait for a final result (single-request and
 * instant modes), whichever instance stored it.
 */
public final class Pipeline implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Pipeline.class);

    private final ApiConfig config;
    private final Store store;
    private final KafkaProducer<String, String> producer;
    private final Map<String, CompletableFuture<JsonNode>> waiters = new ConcurrentHashMap<>();
    private final KafkaConsumer<String, byte[]> storeConsumer;
    private final KafkaConsumer<String, byte[]> waitConsumer;
    private final Thread storeThread;
    private final Thread waitThread;
    private volatile boolean running = true;

    public Pipeline(ApiConfig config, Store store) {
        this.config = config;
        this.store = store;
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int)
                config.kafkaTimeout().toMillis());
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int)
                Math.min(config.kafkaTimeout().toMillis(), 30_000));
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, config.kafkaTimeout().toMillis());
        p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());

        Properties c = consumerProperties();
        c.put(ConsumerConfig.GROUP_ID_CONFIG, config.groupId());
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        storeConsumer = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer());
        storeConsumer.subscribe(List.of(config.resultsTopic(), config.foldersTopic()));

        waitConsumer = new KafkaConsumer<>(consumerProperties(), new StringDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> partitions = resultPartitions();
        waitConsumer.assign(partitions);
        waitConsumer.seekToEnd(partitions);
        // Fix the positions now: results committed after this point wake their waiters.
        partitions.forEach(waitConsumer::position);

        storeThread = new Thread(this::storeLoop, "api-store-consumer");
        waitThread = new Thread(this::waitLoop, "api-wait-consumer");
        storeThread.setDaemon(true);
        waitThread.setDaemon(true);
        storeThread.start();
        waitThread.start();
    }

    /**
     * The results topic's partitions, waiting up to two minutes for the topic to exist: the job (or `local`) creates
     * the topics, and this API may start first.
     */
    private List<TopicPartition> resultPartitions() {
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (true) {
            List<org.apache.kafka.common.PartitionInfo> info = null;
            try {
                info = waitConsumer.listTopics(config.kafkaTimeout()).get(config.resultsTopic());
            } catch (org.apache.kafka.common.errors.TimeoutException e) {
                // The broker is not up yet: keep waiting until the deadline.
            }
            if (info != null && !info.isEmpty()) {
                return info.stream()
                        .map(i -> new TopicPartition(i.topic(), i.partition()))
                        .toList();
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("topic " + config.resultsTopic() + " does not exist on "
                        + config.bootstrapServers() + ": start the job (it creates its topics) or create them");
            }
            LOG.info("waiting for topic {} on {}", config.resultsTopic(), config.bootstrapServers());
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for Kafka", e);
            }
        }
    }

    private Properties consumerProperties() {
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        // Topics belong to the job: never create one by reading it.
        c.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, "false");
        return c;
    }

    /** Publishes one record and waits for the broker's acknowledgement; error 11 (HTTP 503) if it fails. */
    public void publish(String topic, String key, String json) {
        try {
            producer.send(new ProducerRecord<>(topic, key, json))
                    .get(config.kafkaTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiError(dev.biometry.api.OzError.EXTERNAL_SERVICE, "interrupted while publishing", topic);
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            LOG.warn("publish to {} failed: {}", topic, e.toString());
            throw new ApiError(dev.biometry.api.OzError.EXTERNAL_SERVICE, "the message broker is unavailable", topic);
        }
    }

    /** A future completed with the final (FINISHED or FAILED) record of {@code analyseId}; register before publishing. */
    public CompletableFuture<JsonNode> awaitFinal(String analyseId) {
        return waiters.computeIfAbsent(analyseId, id -> new CompletableFuture<>());
    }

    public void forget(String analyseId) {
        waiters.remove(analyseId);
    }

    private void storeLoop() {
        try {
            while (running) {
                org.apache.kafka.clients.consumer.ConsumerRecords<String, byte[]> records =
                        storeConsumer.poll(Duration.ofMillis(500));
                for (ConsumerRecord<String, byte[]> r : records) {
                    try {
                        apply(r);
                    } catch (Store.StoreException e) {
                        // Not committed: go back to the committed offsets and read again once the database answers.
                        LOG.warn("database unavailable while storing results, retrying: {}", e.getMessage());
                        rewindToCommitted();
                        Thread.sleep(1000);
                        records = null;
                        break;
                    } catch (RuntimeException e) {
                        LOG.warn(
                                "skipping unusable record {}-{}@{}: {}",
                                r.topic(),
                                r.partition(),
                                r.offset(),
                                e.toString());
                    }
                }
                if (records != null && !records.isEmpty()) {
                    storeConsumer.commitSync();
                }
            }
        } catch (WakeupException | InterruptedException e) {
            // closing
        } catch (RuntimeException e) {
            LOG.error("result consumer stopped", e);
        } finally {
            storeConsumer.close(Duration.ofSeconds(5));
        }
    }

    private void rewindToCommitted() {
        var assignment = storeConsumer.assignment();
        var committed = storeConsumer.committed(assignment);
        for (TopicPartition tp : assignment) {
            var offset = committed.get(tp);
            if (offset != null) {
                storeConsumer.seek(tp, offset.offset());
            } else {
                storeConsumer.seekToBeginning(List.of(tp));
            }
        }
    }

    private void apply(ConsumerRecord<String, byte[]> r) {
        JsonNode json;
        try {
            json = Json.mapper().readTree(r.value());
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("not JSON", e);
        }
        long now = System.currentTimeMillis();
        String text = new String(r.value(), StandardCharsets.UTF_8);
        if (r.topic().equals(config.resultsTopic())) {
            String id = json.path("analyse_id").asText(r.key());
            store.applyResult(
                    id,
                    json.path("state").asText(),
                    json.path("resolution_status").asText(),
                    text,
                    now);
        } else {
            List<String> ids = new ArrayList<>();
            json.path("analyses").forEach(a -> ids.add(a.path("analyse_id").asText()));
            store.applyRollup(
                    json.path("folder_id").asText(r.key()),
                    json.path("resolution_status").asText(),
                    text,
                    ids,
                    now);
        }
    }

    private void waitLoop() {
        try (waitConsumer) {
            while (running) {
                for (ConsumerRecord<String, byte[]> r : waitConsumer.poll(Duration.ofMillis(200))) {
                    CompletableFuture<JsonNode> waiter = waiters.get(r.key());
                    if (waiter == null) {
                        continue;
                    }
                    try {
                        JsonNode json = Json.mapper().readTree(r.value());
                        if (!"PROCESSING".equals(json.path("state").asText())) {
                            waiter.complete(json);
                        }
                    } catch (java.io.IOException e) {
                        LOG.warn("non-JSON result {}: {}", r.key(), e.toString());
                    }
                }
            }
        } catch (WakeupException e) {
            // closing
        } catch (RuntimeException e) {
            LOG.error("result follower stopped", e);
        }
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        storeConsumer.wakeup();
        waitConsumer.wakeup();
        storeThread.join(10_000);
        waitThread.join(10_000);
        producer.close(Duration.ofSeconds(5));
    }
}
