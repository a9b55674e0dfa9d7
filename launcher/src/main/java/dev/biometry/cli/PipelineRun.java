package dev.biometry.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.biometry.api.Json;
import dev.biometry.config.JobConfig;
import dev.biometry.local.EmbeddedKafkaBroker;
import dev.biometry.pipeline.BiometryJob;
import dev.biometry.pipeline.KafkaEndpoints;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MetricOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * One run of the whole job for the benchmark: the job on a local Flink environment reading and writing its own
 * topics of an already running broker, a producer of two-photo analyses (each with new media ids and new file
 * paths), and two consumers of the results topic, one {@code read_committed} (what clients see under exactly-once)
 * and one {@code read_uncommitted} (the pipeline's own latency). Records when each analysis was produced and when
 * its final result was read by each consumer.
 */
final class PipelineRun implements AutoCloseable {

    /** When a final result was read, and how many of its media had an embedded face. */
    record Arrival(long nanos, int faces, boolean failed) {}

    private final JobConfig config;
    private final BenchImages images;
    private final PrintStream err;
    private final Map<String, Long> producedAt = new ConcurrentHashMap<>();
    private final Map<String, Arrival> committed = new ConcurrentHashMap<>();
    private final Map<String, Arrival> uncommitted = new ConcurrentHashMap<>();
    private final AtomicLong sequence = new AtomicLong();
    private final AtomicLong replayed = new AtomicLong();
    private final List<Thread> consumerThreads = new ArrayList<>();
    private final List<KafkaConsumer<String, String>> consumers = new ArrayList<>();
    private final KafkaProducer<String, String> producer;
    private volatile boolean stopped;
    private volatile Consumer<String> onUncommittedFinal = id -> {};
    private JobClient job;
    private int restPort;

    private PipelineRun(JobConfig config, BenchImages images, PrintStream err) {
        this.config = config;
        this.images = images;
        this.err = err;
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "bench-producer");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "0");
        this.producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }

    /**
     * The job options of one run: the user's {@code jobOptions}, then the run's {@code overrides} (e.g. its checkpoint
     * interval), its own topics (created on {@code broker}), ids and media root.
     */
    static JobConfig prepare(
            EmbeddedKafkaBroker broker,
            Map<String, String> jobOptions,
            String run,
            Map<String, String> overrides,
            BenchImages images) {
        Map<String, String> given = new HashMap<>(jobOptions);
        given.putAll(overrides);
        String suffix = run + "-" + Long.toString(System.nanoTime(), 36);
        given.put("bootstrap-servers", broker.bootstrapServers());
        // Topics of this run alone: a later run (another latency variant) reading an earlier run's requests from the
        // earliest offset would replay them all and start with their state.
        given.put("media-topic", "bench." + suffix + ".media");
        given.put("requests-topic", "bench." + suffix + ".requests");
        given.put("results-topic", "bench." + suffix + ".results");
        given.put("folders-topic", "bench." + suffix + ".folders");
        given.put("dead-letter-topic", "bench." + suffix + ".dead-letter");
        given.put("group-id", "bench-" + suffix);
        given.put("transactional-id-prefix", "bench-" + suffix);
        given.put("starting-offsets", "earliest");
        given.put("media-roots", images.root().toString());
        // Checkpoints on disk, as on a cluster (the images' temporary folder), unless --checkpoint-dir is given.
        given.putIfAbsent(
                "checkpoint-dir",
                images.root().resolve("checkpoints-" + run).toUri().toString());
        JobConfig config = JobConfig.fromOptions(given);
        broker.createTopics(
                config.parallelism(),
                config.mediaTopic(),
                config.requestsTopic(),
                config.resultsTopic(),
                config.foldersTopic(),
                config.deadLetterTopic());
        return config;
    }

    /**
     * How long the broker may hold a result consumer's fetch when nothing new is readable (new data makes a held fetch
     * return at once): 10 ms where each result's read time is a figure (latency), Kafka's default 500 ms where only
     * counts are (throughput). At 10 ms an idle consumer sends a hundred fetches a second to the broker that shares
     * the job's cores: the read_committed one between two commits of the 3 s checkpoint interval, the read_uncommitted
     * one between the sinks' batches (the exactly-once sinks linger until the checkpoint).
     */
    enum ResultReads {
        TIMED(Duration.ofMillis(10)),
        COUNTED(Duration.ofMillis(500));

        final Duration fetchMaxWait;

        ResultReads(Duration fetchMaxWait) {
            this.fetchMaxWait = fetchMaxWait;
        }
    }

    /** Submits the job and starts both result consumers; the topics must exist. */
    static PipelineRun start(
            JobConfig config, boolean objectReuse, BenchImages images, ResultReads reads, PrintStream err)
            throws Exception {
        PipelineRun run = new PipelineRun(config, images, err);
        try {
            run.startConsumer("read_committed", run.committed, reads.fetchMaxWait);
            run.startConsumer("read_uncommitted", run.uncommitted, reads.fetchMaxWait);
            Configuration conf = new Configuration();
            run.restPort = freePort();
            conf.set(RestOptions.PORT, run.restPort);
            // The REST API serves metrics it fetched at most this long ago (10 s by default): the stage breakdown
            // reads them right after the measured window.
            conf.set(MetricOptions.METRIC_FETCHER_UPDATE_INTERVAL, Duration.ofMillis(500));
            StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(conf);
            // HashMap state, checkpoints in --checkpoint-dir (the bench's temporary folder by default): the JobManager
            // storage would refuse a task's state above 5 MB, which the embedding cache (about 2.5 KB per media)
            // reaches after some 2,000 media per slot.
            BiometryJob.configure(env, config, BiometryJob.Deployment.LOCAL);
            if (objectReuse) {
                env.getConfig().enableObjectReuse();
            }
            BiometryJob.build(env, config, KafkaEndpoints.of(config));
            run.job = env.executeAsync("biometry (bench)");
            return run;
        } catch (Exception | Error e) {
            run.close();
            throw e;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    /** The base URL of the job's Flink REST API (the dashboard), e.g. {@code http://localhost:8081}. */
    String restUrl() {
        return "http://localhost:" + restPort;
    }

    /** The job's id in the REST API. */
    String jobId() {
        return job.getJobID().toHexString();
    }

    /** Called with the analysis id of every final result the read_uncommitted consumer reads first. */
    void onUncommittedFinal(Consumer<String> listener) {
        this.onUncommittedFinal = listener;
    }

    /** Produces one two-photo analysis with new media ids and new file paths; returns its analysis id. */
    String send() throws IOException {
        long n = sequence.getAndIncrement();
        int count = images.images().size();
        int first = (int) (n % count);
        int second = (int) ((n + 1 + n / count) % count);
        if (second == first) {
            second = (second + 1) % count;
        }
        String folder = UUID.randomUUID().toString();
        String analysis = UUID.randomUUID().toString();
        ObjectNode request = Json.mapper().createObjectNode();
        request.put("folder_id", folder);
        ObjectNode a = request.putArray("analyses").addObject();
        a.put("type", "biometry");
        a.put("analyse_id", analysis);
        ArrayNode media = request.putArray("media");
        media.add(media(images.freshFile(first), "photo_selfie"));
        media.add(media(images.freshFile(second), "photo_id_front"));
        String json = Json.write(request);
        producedAt.put(analysis, System.nanoTime());
        producer.send(new ProducerRecord<>(config.requestsTopic(), folder, json));
        return analysis;
    }

    private static ObjectNode media(java.nio.file.Path file, String tag) {
        ObjectNode m = Json.mapper().createObjectNode();
        m.put("media_id", UUID.randomUUID().toString());
        m.put("media_type", "IMAGE_FOLDER");
        m.putArray("tags").add(tag);
        m.put("uri", file.toUri().toString());
        return m;
    }

    /** Sends {@code count} analyses and waits until the read_committed consumer has all their final results. */
    void awaitReady(int count, Duration timeout) throws Exception {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            ids.add(send());
        }
        producer.flush();
        if (!awaitCommitted(ids, timeout)) {
            throw new IllegalStateException("the job gave no results within " + timeout + " (see the log above)");
        }
    }

    /** Waits until every id has a committed final result; false on timeout. */
    boolean awaitCommitted(Collection<String> ids, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (committed.keySet().containsAll(ids)) {
                return true;
            }
            Thread.sleep(20);
        }
        return false;
    }

    void flush() {
        producer.flush();
    }

    /** Final results read twice by the read_uncommitted consumer: more than zero means the job restarted. */
    long replayedResults() {
        return replayed.get();
    }

    Map<String, Long> producedAt() {
        return producedAt;
    }

    Map<String, Arrival> committed() {
        return committed;
    }

    Map<String, Arrival> uncommitted() {
        return uncommitted;
    }

    private void startConsumer(String isolation, Map<String, Arrival> arrivals, Duration fetchMaxWait) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "bench-" + isolation);
        // Bounds how long the broker holds a fetch when nothing is readable yet.
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, String.valueOf(fetchMaxWait.toMillis()));
        KafkaConsumer<String, String> consumer =
                new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
        consumers.add(consumer);
        List<TopicPartition> partitions = consumer.partitionsFor(config.resultsTopic(), Duration.ofSeconds(30)).stream()
                .map(i -> new TopicPartition(config.resultsTopic(), i.partition()))
                .toList();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        boolean notify = isolation.equals("read_uncommitted");
        Thread t = new Thread(
                () -> {
                    try {
                        while (!stopped) {
                            ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(100));
                            long now = System.nanoTime();
                            for (ConsumerRecord<String, String> r : records) {
                                JsonNode result = Json.mapper().readTree(r.value());
                                String state = result.path("state").asText();
                                if (state.equals("PROCESSING") || r.key() == null || !producedAt.containsKey(r.key())) {
                                    continue;
                                }
                                Arrival arrival = new Arrival(now, embeddedFaces(result), state.equals("FAILED"));
                                if (arrivals.putIfAbsent(r.key(), arrival) == null) {
                                    if (notify) {
                                        onUncommittedFinal.accept(r.key());
                                    }
                                } else if (notify) {
                                    replayed.incrementAndGet(); // a second final result: the job restarted and replayed
                                }
                            }
                        }
                    } catch (WakeupException e) {
                        // closing
                    } catch (Exception e) {
                        if (!stopped) {
                            err.println("bench: " + isolation + " consumer failed: " + e);
                        }
                    } finally {
                        consumer.close(Duration.ofSeconds(2));
                    }
                },
                "bench-consumer-" + isolation);
        t.setDaemon(true);
        consumerThreads.add(t);
        t.start();
    }

    /** Media of a final result whose face was embedded (a face found and no error). */
    static int embeddedFaces(JsonNode result) {
        int faces = 0;
        for (JsonNode m : result.path("results_media")) {
            if (m.path("results_data").path("faces_detected").asInt(0) > 0 && !m.has("error")) {
                faces++;
            }
        }
        return faces;
    }

    @Override
    public void close() {
        stopped = true;
        if (job != null) {
            try {
                job.cancel().get(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                err.println(String.format(Locale.ROOT, "bench: cancelling the job: %s", e));
            }
        }
        for (KafkaConsumer<String, String> c : consumers) {
            c.wakeup();
        }
        for (Thread t : consumerThreads) {
            try {
                t.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        producer.close(Duration.ofSeconds(5));
    }
}
