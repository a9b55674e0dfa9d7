package dev.biometry.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 90, unit = TimeUnit.SECONDS)
@org.junit.jupiter.api.Tag("integration")
class EmbeddedKafkaBrokerTest {

    private static final String TOPIC = "tx-test";

    @Test
    void transactionsAreIsolatedAndCloseFreesThePort() throws Exception {
        int port;
        Path logDir;
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.builder().start()) {
            port = broker.port();
            logDir = broker.logDir();
            assertThat(broker.bootstrapServers()).isEqualTo("127.0.0.1:" + port);
            assertThat(logDir).isDirectory();

            broker.createTopics(2, TOPIC);
            broker.createTopics(2, TOPIC); // existing topics are accepted

            try (KafkaProducer<String, String> producer = transactionalProducer(broker.bootstrapServers())) {
                producer.initTransactions();

                producer.beginTransaction();
                producer.send(new ProducerRecord<>(TOPIC, "k1", "committed-1"));
                producer.send(new ProducerRecord<>(TOPIC, "k2", "committed-2"));
                producer.commitTransaction();

                producer.beginTransaction();
                producer.send(new ProducerRecord<>(TOPIC, "k1", "aborted-1"));
                producer.send(new ProducerRecord<>(TOPIC, "k2", "aborted-2"));
                producer.flush();
                producer.abortTransaction();

                producer.beginTransaction();
                producer.send(new ProducerRecord<>(TOPIC, "k3", "committed-3"));
                producer.commitTransaction();
            }

            // read_committed through a consumer group (exercises the offsets topic as well).
            List<String> committed = consume(broker.bootstrapServers(), "read_committed", "it-group", 3);
            assertThat(committed).containsExactlyInAnyOrder("committed-1", "committed-2", "committed-3");

            // The aborted records were really written: read_uncommitted sees them.
            List<String> all = consume(broker.bootstrapServers(), "read_uncommitted", null, 5);
            assertThat(all).contains("aborted-1", "aborted-2");
        }

        assertThat(logDir).doesNotExist();
        assertPortFree(port);

        // A second broker can bind the same client port right away.
        EmbeddedKafkaBroker second = EmbeddedKafkaBroker.builder().port(port).start();
        try {
            assertThat(second.bootstrapServers()).isEqualTo("127.0.0.1:" + port);
            try (Admin admin =
                    Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, second.bootstrapServers()))) {
                assertThat(admin.listTopics().names().get(10, TimeUnit.SECONDS)).doesNotContain(TOPIC);
            }
        } finally {
            second.close();
        }
        second.close(); // idempotent
        assertPortFree(port);
        assertThatThrownBy(() -> second.createTopics(1, "after-close")).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void startFailsClearlyWhenThePortIsTaken() throws Exception {
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
            assertThatThrownBy(() -> EmbeddedKafkaBroker.builder()
                            .port(taken.getLocalPort())
                            .startupTimeout(Duration.ofSeconds(60)) // a loaded machine takes over 20 s to fail
                            .start())
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("127.0.0.1:" + taken.getLocalPort())
                    .hasMessageContaining("failed to start");
        }
    }

    @Test
    void reservedPropertiesCannotBeOverridden() {
        assertThatThrownBy(() -> EmbeddedKafkaBroker.builder().brokerProperty("listeners", "PLAINTEXT://0.0.0.0:9092"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("listeners");
    }

    private static KafkaProducer<String, String> transactionalProducer(String bootstrap) {
        return new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrap,
                ProducerConfig.TRANSACTIONAL_ID_CONFIG,
                "embedded-kafka-test-tx",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
                true,
                ProducerConfig.ACKS_CONFIG,
                "all",
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG,
                StringSerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG,
                StringSerializer.class));
    }

    /** Polls until {@code expected} records arrived, then briefly more to catch any extra ones. */
    private static List<String> consume(String bootstrap, String isolation, String groupId, int expected) {
        Map<String, Object> config = new HashMap<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrap,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG,
                isolation,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                "earliest",
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG,
                StringDeserializer.class,
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
                StringDeserializer.class));
        if (groupId != null) {
            config.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        }
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config)) {
            if (groupId != null) {
                consumer.subscribe(List.of(TOPIC));
            } else {
                consumer.assign(List.of(new TopicPartition(TOPIC, 0), new TopicPartition(TOPIC, 1)));
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (values.size() < expected && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
                    values.add(record.value());
                }
            }
            for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(500))) {
                values.add(record.value());
            }
        }
        return values;
    }

    private static void assertPortFree(int port) throws IOException {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port));
            assertThat(socket.getLocalPort()).isEqualTo(port);
        }
    }
}
