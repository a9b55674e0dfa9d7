package dev.biometry.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.biometry.api.InputParser;
import dev.biometry.api.Json;
import dev.biometry.api.SourceRef;
import dev.biometry.config.JobConfig;
import dev.biometry.local.EmbeddedKafkaBroker;
import dev.biometry.pipeline.BiometryJob;
import dev.biometry.pipeline.KafkaEndpoints;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code local [--requests FILE.jsonl] [--exit-when-done] [--no-ui] [--bootstrap-servers H:P] [job options]}: runs
 * the whole pipeline on this machine: an in-process single-node KRaft Kafka broker (unless
 * {@code --bootstrap-servers} names one), the job on a local Flink cluster with its web dashboard, and a feeder
 * that sends the requests of FILE (or demo folders built from the sample photos) and prints each result.
 */
final class LocalCommand {

    private LocalCommand() {}

    static CommandSpec spec() {
        CommandSpec spec = CommandArgs.command(
                "local",
                "In-process Kafka + local Flink with its dashboard; feeds FILE (or demo folders) and prints results.");
        CommandArgs.value(spec, "requests", "FILE.jsonl", null, "request lines to send (default: demo folders)");
        CommandArgs.flag(spec, "exit-when-done", "end once every request has its final result");
        CommandArgs.flag(spec, "no-ui", "no Flink dashboard");
        CommandArgs.value(spec, "ui-port", "PORT", "8081", "port of the Flink dashboard");
        CommandArgs.value(
                spec,
                "metrics-port",
                "PORT",
                String.valueOf(DEFAULT_METRICS_PORT),
                "port of the Prometheus metrics (0: none)");
        CommandArgs.value(spec, "timeout", "SECONDS", "600", "with --exit-when-done: longest wait for the results");
        CommandArgs.value(spec, "kafka-port", "PORT", "0", "port of the in-process broker (0: any free port)");
        return CommandArgs.jobOptions(spec, Map.of("checkpoint-interval", "2s"));
    }

    static int run(CommandArgs args, PrintStream out, PrintStream err) throws Exception {
        Path models = ModelsLocator.locate(args.option("models"));
        boolean exitWhenDone = args.flag("exit-when-done");
        Duration timeout = Duration.ofSeconds(args.intOption("timeout", 600));

        List<LocalRequests.Line> lines;
        List<String> roots = new ArrayList<>();
        roots.add(Path.of("").toAbsolutePath().toString());
        if (args.option("requests") != null) {
            Path file = Path.of(args.option("requests")).toAbsolutePath();
            if (!Files.isRegularFile(file)) {
                throw new UsageException("--requests " + file + " is not a file");
            }
            lines = LocalRequests.fromFile(file, err);
            roots.add(file.getParent().toString());
        } else {
            Path demo = Files.createTempDirectory("biometry-demo");
            demo.toFile().deleteOnExit();
            lines = LocalRequests.demo(demo, models);
            roots.add(demo.toString());
        }
        if (args.option("media-roots") != null) {
            roots.add(args.option("media-roots"));
        }

        EmbeddedKafkaBroker broker = null;
        JobClient job = null;
        BiometryJob.Durability durability = null;
        try {
            String bootstrap = args.option("bootstrap-servers");
            if (bootstrap == null) {
                err.println("local: starting an in-process Kafka broker (KRaft, single node)");
                broker = EmbeddedKafkaBroker.start(args.intOption("kafka-port", 0));
                bootstrap = broker.bootstrapServers();
                err.println("local: Kafka at " + bootstrap);
            }
            Map<String, String> defaults = new HashMap<>();
            defaults.put("bootstrap-servers", bootstrap);
            defaults.put("models", models.toString());
            defaults.put("media-roots", String.join(",", roots));
            defaults.put("checkpoint-interval", "2s");
            defaults.put("transactional-id-prefix", "biometry-local-" + Long.toString(System.currentTimeMillis(), 36));
            // --media-roots adds to the roots above (the current folder, the requests' or demo folder) instead of
            // replacing them, as every other option given replaces its default.
            Map<String, String> mediaRoots = Map.of("media-roots", String.join(",", roots));
            JobConfig config = RunCommand.jobConfig(args, defaults, mediaRoots);
            createTopics(config);

            Configuration conf = new Configuration();
            if (args.flag("no-ui")) {
                // No dashboard: the REST endpoint takes any free port, so a second run or a busy 8081 is no obstacle.
                conf.set(RestOptions.BIND_PORT, "0");
            } else {
                conf.set(RestOptions.PORT, args.intOption("ui-port", 8081));
            }
            int metricsPort = args.intOption("metrics-port", DEFAULT_METRICS_PORT);
            if (metricsPort > 0) {
                conf.addAll(prometheusReporter(metricsPort));
            }
            StreamExecutionEnvironment env = args.flag("no-ui")
                    ? StreamExecutionEnvironment.createLocalEnvironment(conf)
                    : StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(conf);
            try {
                durability = BiometryJob.configure(env, config, BiometryJob.Deployment.LOCAL);
            } catch (IllegalArgumentException e) {
                throw new UsageException(e.getMessage());
            }
            err.printf(
                    Locale.ROOT,
                    "local: %s state, checkpoints in %s%n",
                    durability.stateBackend(),
                    durability.checkpointDir());
            BiometryJob.build(env, config, KafkaEndpoints.of(config));
            job = env.executeAsync("biometry (local)");
            if (!args.flag("no-ui")) {
                err.println("local: Flink dashboard at http://localhost:" + conf.get(RestOptions.PORT));
            }
            if (metricsPort > 0) {
                err.println("local: Prometheus metrics at http://localhost:" + metricsPort + "/metrics");
            }
            return feedAndCollect(config, lines, exitWhenDone, timeout, out, err);
        } finally {
            if (job != null) {
                job.cancel().get();
            }
            if (broker != null) {
                broker.close();
            }
            if (durability != null && durability.temporaryDir() != null) {
                org.apache.flink.util.FileUtils.deleteDirectoryQuietly(
                        durability.temporaryDir().toFile());
            }
        }
    }

    /** The port of Flink's Prometheus reporter in local mode ({@code --metrics-port}; 0 turns it off). */
    static final int DEFAULT_METRICS_PORT = 9249;

    /**
     * Flink's Prometheus reporter on {@code port}, as docker/flink/config.yaml configures it on a cluster (the
     * reporter listens on every interface: Flink has no option to bind it to one).
     */
    static Configuration prometheusReporter(int port) {
        return Configuration.fromMap(Map.of(
                "metrics.reporter.prom.factory.class",
                "org.apache.flink.metrics.prometheus.PrometheusReporterFactory",
                "metrics.reporter.prom.port",
                String.valueOf(port)));
    }

    private static void createTopics(JobConfig config) throws Exception {
        Properties props = config.kafkaProperties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        try (Admin admin = Admin.create(props)) {
            for (String topic : List.of(
                    config.mediaTopic(),
                    config.requestsTopic(),
                    config.resultsTopic(),
                    config.foldersTopic(),
                    config.deadLetterTopic())) {
                try {
                    admin.createTopics(List.of(new NewTopic(topic, config.parallelism(), (short) 1)))
                            .all()
                            .get();
                } catch (java.util.concurrent.ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw e;
                    }
                }
            }
        }
    }

    /** Sends the lines, then prints results as they are committed; returns the exit code. */
    private static int feedAndCollect(
            JobConfig config,
            List<LocalRequests.Line> lines,
            boolean exitWhenDone,
            Duration timeout,
            PrintStream out,
            PrintStream err)
            throws Exception {
        Map<String, JsonNode> finals = new LinkedHashMap<>();
        // A set: an analysis counts once however its results arrive (lines asking again for an id are left out).
        java.util.Set<String> expected = new java.util.LinkedHashSet<>();
        Properties consumerProps = config.kafkaProperties();
        consumerProps.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        consumerProps.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        consumerProps.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        Properties producerProps = config.kafkaProperties();
        producerProps.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        try (KafkaConsumer<String, String> consumer =
                        new KafkaConsumer<>(consumerProps, new StringDeserializer(), new StringDeserializer());
                KafkaProducer<String, String> producer =
                        new KafkaProducer<>(producerProps, new StringSerializer(), new StringSerializer())) {
            List<TopicPartition> partitions =
                    consumer.partitionsFor(config.resultsTopic(), Duration.ofSeconds(30)).stream()
                            .map(p -> new TopicPartition(config.resultsTopic(), p.partition()))
                            .toList();
            consumer.assign(partitions);
            consumer.seekToEnd(partitions);
            partitions.forEach(consumer::position);

            for (LocalRequests.Line line : lines) {
                var parsed = InputParser.parseRequest(
                        line.json().getBytes(StandardCharsets.UTF_8),
                        new SourceRef("line", 0, line.number()),
                        System.currentTimeMillis(),
                        () -> "unused",
                        config.inputLimits());
                if (!parsed.isOk()) {
                    err.printf(
                            Locale.ROOT,
                            "local: line %d rejected (it goes to %s): %s%n",
                            line.number(),
                            config.deadLetterTopic(),
                            parsed.deadLetter().errorMessage());
                } else {
                    expected.addAll(line.analyseIds());
                }
                producer.send(new ProducerRecord<>(config.requestsTopic(), line.folderId(), line.json()))
                        .get();
            }
            err.printf(
                    Locale.ROOT,
                    "local: sent %d request line(s) with %d analyses to %s%n",
                    lines.size(),
                    expected.size(),
                    config.requestsTopic());

            long deadline = System.nanoTime() + timeout.toNanos();
            while (!exitWhenDone || finals.size() < expected.size()) {
                if (exitWhenDone && System.nanoTime() > deadline) {
                    err.printf(
                            Locale.ROOT,
                            "local: timed out after %s with %d of %d results%n",
                            timeout,
                            finals.size(),
                            expected.size());
                    return 1;
                }
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    JsonNode result = Json.mapper().readTree(r.value());
                    String state = result.path("state").asText();
                    if (!exitWhenDone) {
                        out.println(r.value());
                    } else {
                        err.printf(
                                Locale.ROOT,
                                "local: %s %s %s%n",
                                r.key(),
                                state,
                                result.path("resolution_status").asText());
                    }
                    if (!"PROCESSING".equals(state) && expected.contains(r.key())) {
                        finals.put(r.key(), result);
                    }
                }
            }
        }
        for (String id : expected) {
            out.println(Json.write(finals.get(id)));
        }
        return 0;
    }
}
