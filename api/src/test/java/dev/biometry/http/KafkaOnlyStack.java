package dev.biometry.http;

import dev.biometry.local.EmbeddedKafkaBroker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * The API against an in-process Kafka broker without the job (for the checks that need no result): its store is
 * the given database, its media directory a temporary folder; a users file adds a user of another company.
 */
final class KafkaOnlyStack implements AutoCloseable {

    static final String OTHER_EMAIL = "other@example.com";
    static final String OTHER_PASSWORD = "other-password";

    final EmbeddedKafkaBroker kafka;
    final ApiServer api;
    final Path mediaDir;
    /** Every route the server registered, as "METHOD /path". */
    final java.util.Set<String> routes = new java.util.concurrent.ConcurrentSkipListSet<>();

    KafkaOnlyStack(Path work, String dbUrl, String dbUser, Map<String, String> extra) throws Exception {
        kafka = EmbeddedKafkaBroker.start();
        kafka.createTopics(2, "biometry.media", "biometry.requests", "biometry.results", "biometry.folders");
        mediaDir = Files.createDirectories(work.resolve("media"));
        Path users = work.resolve("users.json");
        Files.writeString(
                users,
                "[{\"email\": \"" + OTHER_EMAIL + "\", \"password_hash\": \"" + Auth.hash(OTHER_PASSWORD)
                        + "\", \"company_name\": \"other company\", \"first_name\": \"Other\"}]");
        Map<String, String> options = new HashMap<>();
        options.put("bootstrap-servers", kafka.bootstrapServers());
        options.put("port", "0");
        options.put("db-url", dbUrl);
        options.put("db-user", dbUser);
        options.put("media-dir", mediaDir.toString());
        options.put("demo-user", "true");
        options.put("users-file", users.toString());
        options.putAll(extra);
        api = ApiServer.start(ApiConfig.of(options), routes::add);
    }

    /** How many records each topic holds (end offsets summed over partitions). */
    long records(String topic) {
        try (KafkaConsumer<String, String> c = consumer()) {
            List<TopicPartition> parts = c.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                    .map(p -> new TopicPartition(topic, p.partition()))
                    .toList();
            return c.endOffsets(parts).values().stream()
                    .mapToLong(Long::longValue)
                    .sum();
        }
    }

    /** Every record of a topic, oldest first per partition. */
    List<ConsumerRecord<String, String>> readAll(String topic) {
        try (KafkaConsumer<String, String> c = consumer()) {
            List<TopicPartition> parts = c.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                    .map(p -> new TopicPartition(topic, p.partition()))
                    .toList();
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts);
            List<ConsumerRecord<String, String>> out = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (parts.stream().anyMatch(p -> c.position(p) < end.get(p)) && System.nanoTime() < deadline) {
                c.poll(Duration.ofMillis(200)).forEach(out::add);
            }
            return out;
        }
    }

    private KafkaConsumer<String, String> consumer() {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
    }

    @Override
    public void close() throws Exception {
        api.close();
        kafka.close();
    }
}
