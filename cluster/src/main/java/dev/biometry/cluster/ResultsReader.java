package dev.biometry.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

/** Reads the results topic from the beginning with {@code read_committed}, as a downstream consumer would. */
final class ResultsReader implements AutoCloseable {

    /** Final records (FINISHED / FAILED) per analysis id, in the order read. */
    final Map<String, List<JsonNode>> finals = new ConcurrentHashMap<>();

    final AtomicInteger processingRecords = new AtomicInteger();
    final AtomicInteger unreadable = new AtomicInteger();
    final AtomicLong lastFinalNanos = new AtomicLong();
    private final Thread thread;
    private volatile boolean running = true;
    private volatile Throwable failure;

    ResultsReader(String bootstrapServers, String topic) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        KafkaConsumer<String, String> consumer =
                new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer());
        List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(60)).stream()
                .map(p -> new TopicPartition(topic, p.partition()))
                .toList();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        thread = new Thread(
                () -> {
                    try (consumer) {
                        while (running) {
                            for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                                JsonNode v;
                                try {
                                    v = FlinkRest.JSON.readTree(r.value());
                                } catch (Exception e) {
                                    unreadable.incrementAndGet();
                                    continue;
                                }
                                if (v.path("state").asText().equals("PROCESSING")) {
                                    processingRecords.incrementAndGet();
                                } else {
                                    finals.computeIfAbsent(
                                                    v.path("analyse_id").asText(), k -> new CopyOnWriteArrayList<>())
                                            .add(v);
                                    lastFinalNanos.set(System.nanoTime());
                                }
                            }
                        }
                    } catch (Throwable t) {
                        failure = t;
                    }
                },
                "results-reader");
        thread.setDaemon(true);
        thread.start();
    }

    int analysesWithFinal() {
        check();
        return finals.size();
    }

    void check() {
        if (failure != null) {
            throw new IllegalStateException("results reader failed", failure);
        }
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.join(10_000);
    }
}
