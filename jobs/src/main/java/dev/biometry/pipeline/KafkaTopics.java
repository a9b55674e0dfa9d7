package dev.biometry.pipeline;

import dev.biometry.config.JobConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks at submission that the job's five topics exist (a source or sink on a missing topic fails the job only
 * after its restart attempts, with "Failed to get metadata for topics"), and creates the missing ones when
 * {@code --create-topics true}. Runs where the job's {@code main} runs (the client or the JobManager).
 */
public final class KafkaTopics {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaTopics.class);
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private KafkaTopics() {}

    /** The topics the streaming job reads and writes, in option order. */
    public static List<String> of(JobConfig config) {
        return List.copyOf(new LinkedHashSet<>(List.of(
                config.mediaTopic(),
                config.requestsTopic(),
                config.resultsTopic(),
                config.foldersTopic(),
                config.deadLetterTopic())));
    }

    /**
     * Makes sure every topic of the job exists: creates the missing ones with {@code --parallelism} partitions
     * when the configuration asks for it, otherwise throws naming them. Warns about topics with fewer partitions
     * than the parallelism (the extra source subtasks would stay idle).
     *
     * @throws IllegalStateException when topics are missing (and not created) or Kafka cannot be reached
     */
    public static void ensure(JobConfig config) {
        List<String> topics = of(config);
        try (Admin admin = Admin.create(Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers(),
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) TIMEOUT.toMillis(),
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) TIMEOUT.toMillis()))) {
            Map<String, Integer> partitions = describe(admin, topics, config);
            List<String> missing =
                    topics.stream().filter(t -> !partitions.containsKey(t)).toList();
            if (!missing.isEmpty()) {
                if (!config.createTopics()) {
                    throw new IllegalStateException("Kafka topics missing on " + config.bootstrapServers() + ": "
                            + String.join(", ", missing) + ". Create them (partitions >= --parallelism "
                            + config.parallelism() + ", see docs/operations.md), or pass "
                            + "--create-topics true to have the job create them");
                }
                create(admin, missing, config);
            }
            partitions.forEach((topic, count) -> {
                if (count < config.parallelism()) {
                    LOG.warn(
                            "Topic {} has {} partitions, fewer than --parallelism {}: some source subtasks stay idle",
                            topic,
                            count,
                            config.parallelism());
                }
            });
        }
    }

    private static Map<String, Integer> describe(Admin admin, List<String> topics, JobConfig config) {
        Map<String, Integer> partitions = new TreeMap<>();
        admin.describeTopics(topics).topicNameValues().forEach((topic, future) -> {
            try {
                TopicDescription d = future.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                partitions.put(topic, d.partitions().size());
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
                    throw unreachable(config, e.getCause());
                }
            } catch (TimeoutException e) {
                throw unreachable(config, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while checking the Kafka topics", e);
            }
        });
        return partitions;
    }

    private static void create(Admin admin, List<String> missing, JobConfig config) {
        List<NewTopic> newTopics = new ArrayList<>();
        missing.forEach(t -> newTopics.add(new NewTopic(t, Optional.of(config.parallelism()), Optional.empty())));
        Set<String> created = new LinkedHashSet<>();
        admin.createTopics(newTopics).values().forEach((topic, future) -> {
            try {
                future.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                created.add(topic);
            } catch (ExecutionException e) {
                // Another submission created it in the meantime: fine.
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw new IllegalStateException(
                            "could not create Kafka topic " + topic + " on " + config.bootstrapServers() + ": "
                                    + e.getCause().getMessage(),
                            e.getCause());
                }
            } catch (TimeoutException e) {
                throw unreachable(config, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while creating the Kafka topics", e);
            }
        });
        LOG.info("Created Kafka topics {} with {} partitions", created, config.parallelism());
    }

    private static IllegalStateException unreachable(JobConfig config, Throwable cause) {
        return new IllegalStateException(
                "could not check the Kafka topics on " + config.bootstrapServers() + " within " + TIMEOUT.toSeconds()
                        + " s: " + cause,
                cause);
    }
}
