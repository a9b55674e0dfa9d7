package dev.biometry.testing;

import com.fasterxml.jackson.databind.JsonNode;
import dev.biometry.api.Json;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Reads a topic from the beginning with {@code read_committed} on a background thread and keeps every record,
 * so tests can wait for what a job has committed.
 */
public final class KafkaTopicReader implements AutoCloseable {

    /** One committed record: key and JSON value. */
    public record Message(String key, JsonNode value) {}

    private final List<Message> messages = new CopyOnWriteArrayList<>();
    /** The reader's position per partition after its last poll: every record before it is in {@link #messages}. */
    private final Map<TopicPartition, Long> positions = new ConcurrentHashMap<>();

    private final String bootstrapServers;
    private final List<TopicPartition> partitions;
    private final Thread thread;
    private volatile boolean running = true;

    public KafkaTopicReader(String bootstrapServers, String topic) {
        this.bootstrapServers = bootstrapServers;
        Properties props = consumerProperties(bootstrapServers);
        KafkaConsumer<String, byte[]> consumer =
                new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
        partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                .map(p -> new TopicPartition(topic, p.partition()))
                .toList();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        thread = new Thread(
                () -> {
                    try (consumer) {
                        while (running) {
                            for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                                try {
                                    messages.add(
                                            new Message(r.key(), Json.mapper().readTree(r.value())));
                                } catch (java.io.IOException e) {
                                    throw new IllegalStateException("non-JSON record on " + topic, e);
                                }
                            }
                            for (TopicPartition p : partitions) {
                                positions.put(p, consumer.position(p));
                            }
                        }
                    }
                },
                "reader-" + topic);
        thread.setDaemon(true);
        thread.start();
    }

    public List<Message> messages() {
        return List.copyOf(messages);
    }

    /** Waits until {@code done} holds for the records read so far; returns those matching {@code filter}. */
    public List<Message> await(Predicate<Message> filter, Predicate<List<Message>> done, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<Message> matching = new ArrayList<>();
            for (Message m : messages) {
                if (filter.test(m)) {
                    matching.add(m);
                }
            }
            if (done.test(matching)) {
                return matching;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + "; matching so far: " + matching);
            }
            Thread.sleep(100);
        }
    }

    /**
     * Waits until this reader has read every record committed on the topic when called (the topic's last stable
     * offsets): a record that a completed checkpoint committed is then in {@link #messages()}.
     */
    public void awaitCaughtUp(Duration timeout) throws InterruptedException {
        Map<TopicPartition, Long> end;
        try (KafkaConsumer<byte[], byte[]> probe = new KafkaConsumer<>(
                consumerProperties(bootstrapServers), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            end = probe.endOffsets(partitions, timeout);
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!end.entrySet().stream().allMatch(e -> positions.getOrDefault(e.getKey(), 0L) >= e.getValue())) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " reading up to " + end + "; at " + positions);
            }
            Thread.sleep(50); // polls the reader's progress
        }
    }

    /** A read_committed consumer from the beginning, without committed offsets of its own. */
    private static Properties consumerProperties(String bootstrapServers) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        return props;
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.join(5000);
    }
}
