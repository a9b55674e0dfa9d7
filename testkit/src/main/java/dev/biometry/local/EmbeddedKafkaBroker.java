package dev.biometry.local;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.metadata.properties.MetaPropertiesEnsemble;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A single-node, in-process Apache Kafka 4.x broker running in KRaft combined mode
 * ({@code process.roles=broker,controller}), for integration tests and the local launcher.
 *
 * <p>Both listeners bind to {@code 127.0.0.1} only. Every internal topic (consumer offsets,
 * transaction state, share-group state) is created with replication factor 1 and min ISR 1, so
 * consumer groups and transactions (as used by Flink's exactly-once Kafka sink) work on a single
 * node. The log directory is formatted with the KRaft storage formatter on first use; a temporary
 * log directory is used and deleted on {@link #close()} unless one is given.
 *
 * <pre>{@code
 * try (EmbeddedKafkaBroker kafka = EmbeddedKafkaBroker.builder().start()) {
 *     kafka.createTopics(4, "frames", "matches");
 *     String bootstrap = kafka.bootstrapServers();
 *     ...
 * }
 * }</pre>
 *
 * <p>Requires {@code org.apache.kafka:kafka_2.13} (and its Scala runtime) on the class path.
 * Not for production use: a fatal fault inside the broker may halt the JVM, as in a standalone
 * Kafka process.
 */
public final class EmbeddedKafkaBroker implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafkaBroker.class);

    private static final String HOST = "127.0.0.1";
    private static final String CLIENT_LISTENER = "PLAINTEXT";
    private static final String CONTROLLER_LISTENER = "CONTROLLER";
    private static final int NODE_ID = 1;
    private static final int MAX_BIND_ATTEMPTS = 3;

    /**
     * The broker's {@code transaction.max.timeout.ms}: Kafka's default (15 min), stated so that the job's
     * {@code --transaction-timeout} (10 min by default) keeps fitting under it whatever Kafka's default becomes.
     */
    public static final Duration TRANSACTION_MAX_TIMEOUT = Duration.ofMinutes(15);

    /** Properties this class derives from the builder settings; callers must not override them. */
    private static final Set<String> RESERVED_PROPERTIES = Set.of(
            "process.roles",
            "node.id",
            "broker.id",
            "listeners",
            "advertised.listeners",
            "listener.security.protocol.map",
            "controller.listener.names",
            "inter.broker.listener.name",
            "security.inter.broker.protocol",
            "controller.quorum.voters",
            "controller.quorum.bootstrap.servers",
            "log.dir",
            "log.dirs",
            "metadata.log.dir");

    private final KafkaRaftServer server;
    private final int port;
    private final int controllerPort;
    private final Path logDir;
    private final boolean deleteLogDirOnClose;
    private final Duration operationTimeout;
    private final Object lock = new Object();
    private Admin admin;
    private boolean closed;

    private EmbeddedKafkaBroker(
            KafkaRaftServer server,
            int port,
            int controllerPort,
            Path logDir,
            boolean deleteLogDirOnClose,
            Duration operationTimeout) {
        this.server = server;
        this.port = port;
        this.controllerPort = controllerPort;
        this.logDir = logDir;
        this.deleteLogDirOnClose = deleteLogDirOnClose;
        this.operationTimeout = operationTimeout;
    }

    /** Returns a builder with defaults: free ports, fresh temporary log directory, 60 s startup timeout. */
    public static Builder builder() {
        return new Builder();
    }

    /** Starts a broker with all defaults. Equivalent to {@code builder().start()}. */
    public static EmbeddedKafkaBroker start() {
        return builder().start();
    }

    /** Starts a broker on {@code port} (0 = any free port) with a temporary log directory. */
    public static EmbeddedKafkaBroker start(int port) {
        return builder().port(port).start();
    }

    /** Client bootstrap address, {@code "127.0.0.1:PORT"}. */
    public String bootstrapServers() {
        return HOST + ":" + port;
    }

    /** The PLAINTEXT (client) listener port. */
    public int port() {
        return port;
    }

    /** The CONTROLLER listener port. */
    public int controllerPort() {
        return controllerPort;
    }

    /** The broker's log directory (also holds the KRaft metadata log). */
    public Path logDir() {
        return logDir;
    }

    /**
     * Creates the given topics with {@code partitions} partitions and replication factor 1, and
     * waits until every partition has a leader. Topics that already exist are left unchanged.
     */
    public void createTopics(int partitions, String... names) {
        if (partitions < 1) {
            throw new IllegalArgumentException("partitions must be >= 1, got " + partitions);
        }
        if (names.length == 0) {
            return;
        }
        List<String> topics = Arrays.asList(names);
        Admin client = admin();
        long deadline = System.nanoTime() + operationTimeout.toNanos();
        try {
            List<NewTopic> newTopics = topics.stream()
                    .map(name -> new NewTopic(name, partitions, (short) 1))
                    .collect(Collectors.toList());
            for (Map.Entry<String, KafkaFuture<Void>> entry :
                    client.createTopics(newTopics).values().entrySet()) {
                try {
                    entry.getValue().get(remainingMillis(deadline), TimeUnit.MILLISECONDS);
                    LOG.debug("Created topic {} with {} partition(s)", entry.getKey(), partitions);
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof TopicExistsException) {
                        LOG.info("Topic {} already exists, leaving it unchanged", entry.getKey());
                    } else {
                        throw e;
                    }
                }
            }
            awaitLeaders(client, topics, deadline);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while creating topics " + topics, e);
        } catch (ExecutionException | TimeoutException e) {
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            throw new IllegalStateException(
                    "Could not create topics " + topics + " on " + bootstrapServers() + ": " + cause, cause);
        }
    }

    private static void awaitLeaders(Admin client, Collection<String> topics, long deadline)
            throws InterruptedException, ExecutionException, TimeoutException {
        while (true) {
            Map<String, TopicDescription> descriptions;
            try {
                descriptions = client.describeTopics(topics)
                        .allTopicNames()
                        .get(remainingMillis(deadline), TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                // A loaded broker may not know a topic it just created yet: ask again until the deadline.
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException) || System.nanoTime() >= deadline) {
                    throw e;
                }
                Thread.sleep(50);
                continue;
            }
            boolean ready = descriptions.values().stream()
                    .flatMap(d -> d.partitions().stream())
                    .map(TopicPartitionInfo::leader)
                    .allMatch(leader -> leader != null && !leader.isEmpty());
            if (ready) {
                return;
            }
            if (System.nanoTime() >= deadline) {
                throw new TimeoutException("Partitions of " + topics + " have no leader yet");
            }
            Thread.sleep(50);
        }
    }

    /** Shuts the broker down, waits for it, and deletes the temporary log directory. Idempotent. */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            if (admin != null) {
                try {
                    admin.close(Duration.ofSeconds(5));
                } catch (RuntimeException e) {
                    LOG.warn("Error closing admin client", e);
                }
                admin = null;
            }
        }
        LOG.info("Stopping embedded Kafka broker on {}", bootstrapServers());
        shutdownQuietly(server);
        if (deleteLogDirOnClose) {
            deleteQuietly(logDir);
        }
        LOG.info("Embedded Kafka broker on {} stopped", bootstrapServers());
    }

    private Admin admin() {
        synchronized (lock) {
            if (closed) {
                throw new IllegalStateException("Broker on " + bootstrapServers() + " is closed");
            }
            if (admin == null) {
                admin = Admin.create(adminConfig(bootstrapServers(), operationTimeout));
            }
            return admin;
        }
    }

    private static Map<String, Object> adminConfig(String bootstrapServers, Duration timeout) {
        Map<String, Object> config = new LinkedHashMap<>();
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        config.put(AdminClientConfig.CLIENT_ID_CONFIG, "embedded-kafka-admin");
        config.put(
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
        config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
        config.put(AdminClientConfig.RETRY_BACKOFF_MS_CONFIG, 100);
        config.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 500);
        return config;
    }

    private static long remainingMillis(long deadlineNanos) throws TimeoutException {
        long remaining = TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
        if (remaining <= 0) {
            throw new TimeoutException("deadline passed");
        }
        return remaining;
    }

    private static void shutdownQuietly(KafkaRaftServer server) {
        try {
            server.shutdown();
            server.awaitShutdown();
        } catch (Throwable t) {
            LOG.warn("Error while shutting down the embedded Kafka broker", t);
        }
    }

    private static void deleteQuietly(Path dir) {
        try {
            Utils.delete(dir.toFile());
        } catch (IOException e) {
            LOG.warn("Could not delete Kafka log directory {}", dir, e);
        }
    }

    /** Builder for {@link EmbeddedKafkaBroker}. */
    public static final class Builder {
        private int port;
        private int controllerPort;
        private Path logDir;
        private Duration startupTimeout = Duration.ofSeconds(60);
        private final Map<String, String> brokerProperties = new LinkedHashMap<>();
        private final Map<String, Short> featureLevels = new LinkedHashMap<>();

        private Builder() {}

        /** PLAINTEXT (client) port on 127.0.0.1; 0 (default) picks a free port. */
        public Builder port(int port) {
            this.port = checkPort(port);
            return this;
        }

        /** CONTROLLER port on 127.0.0.1; 0 (default) picks a free port. */
        public Builder controllerPort(int controllerPort) {
            this.controllerPort = checkPort(controllerPort);
            return this;
        }

        /**
         * Log directory to use and keep. It is formatted if it holds no {@code meta.properties}
         * yet, otherwise reused (so a broker can be restarted on its data). Default: a fresh
         * temporary directory that is deleted on close.
         */
        public Builder logDir(Path logDir) {
            this.logDir = Objects.requireNonNull(logDir, "logDir");
            return this;
        }

        /** How long {@link #start()} waits for the broker to accept clients; also bounds admin operations. */
        public Builder startupTimeout(Duration startupTimeout) {
            if (startupTimeout.isNegative() || startupTimeout.isZero()) {
                throw new IllegalArgumentException("startupTimeout must be positive");
            }
            this.startupTimeout = startupTimeout;
            return this;
        }

        /** Extra broker property; overrides the defaults except listener, quorum, role and directory settings. */
        public Builder brokerProperty(String key, Object value) {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(value, "value");
            if (RESERVED_PROPERTIES.contains(key)) {
                throw new IllegalArgumentException(
                        "Broker property '" + key + "' is managed by EmbeddedKafkaBroker and cannot be overridden");
            }
            brokerProperties.put(key, String.valueOf(value));
            return this;
        }

        /** Extra broker properties; see {@link #brokerProperty(String, Object)}. */
        public Builder brokerProperties(Map<String, ?> properties) {
            properties.forEach(this::brokerProperty);
            return this;
        }

        /**
         * Feature level written when formatting, e.g. {@code featureLevel("transaction.version", (short) 1)}
         * to run without transactions V2 (KIP-890). Ignored if the log directory is already formatted.
         */
        public Builder featureLevel(String feature, short level) {
            featureLevels.put(Objects.requireNonNull(feature, "feature"), level);
            return this;
        }

        /**
         * Formats the log directory if needed, starts the broker and returns once an Admin client
         * can describe the cluster.
         *
         * @throws IllegalStateException if the broker does not start within the startup timeout
         */
        public EmbeddedKafkaBroker start() {
            boolean tempDir = logDir == null;
            Path dir;
            try {
                dir = tempDir ? Files.createTempDirectory("embedded-kafka-") : Files.createDirectories(logDir);
            } catch (IOException e) {
                throw new UncheckedIOException("Could not create Kafka log directory", e);
            }
            try {
                format(dir);
                for (int attempt = 1; ; attempt++) {
                    int clientPort = port != 0 ? port : freePort();
                    int quorumPort = controllerPort != 0 ? controllerPort : freePort(clientPort);
                    try {
                        return startOnce(dir, tempDir, clientPort, quorumPort);
                    } catch (RuntimeException e) {
                        // Only ports we picked ourselves can be re-picked; an explicit port that is taken is fatal.
                        boolean retry = attempt < MAX_BIND_ATTEMPTS
                                && ((port == 0 && causedByBindFailure(e, clientPort))
                                        || (controllerPort == 0 && causedByBindFailure(e, quorumPort)));
                        if (!retry) {
                            throw e;
                        }
                        LOG.warn(
                                "Port {} or {} was taken before the broker could bind it; retrying with new ports",
                                clientPort,
                                quorumPort);
                    }
                }
            } catch (RuntimeException | Error e) {
                if (tempDir) {
                    deleteQuietly(dir);
                }
                throw e;
            }
        }

        private EmbeddedKafkaBroker startOnce(Path dir, boolean tempDir, int clientPort, int quorumPort) {
            KafkaConfig config = KafkaConfig.fromProps(brokerConfig(dir, clientPort, quorumPort), false);
            String bootstrap = HOST + ":" + clientPort;
            LOG.info(
                    "Starting embedded Kafka broker on {} (controller port {}, log dir {})",
                    bootstrap,
                    quorumPort,
                    dir);
            long deadline = System.nanoTime() + startupTimeout.toNanos();

            KafkaRaftServer server = new KafkaRaftServer(config, Time.SYSTEM);
            ExecutorService starter = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "embedded-kafka-startup");
                t.setDaemon(true);
                return t;
            });
            try {
                // KafkaRaftServer.startup() blocks while the controller elects itself and the broker
                // registers and is unfenced; run it on its own thread so the timeout applies.
                Future<?> startup = starter.submit(server::startup);
                startup.get(remainingMillis(deadline), TimeUnit.MILLISECONDS);
                awaitClientsAccepted(bootstrap, deadline);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                shutdownQuietly(server);
                throw new IllegalStateException("Interrupted while starting embedded Kafka broker on " + bootstrap, e);
            } catch (ExecutionException e) {
                shutdownQuietly(server);
                throw new IllegalStateException(
                        "Embedded Kafka broker on " + bootstrap + " failed to start: " + e.getCause(), e.getCause());
            } catch (TimeoutException e) {
                shutdownQuietly(server);
                throw new IllegalStateException(
                        "Embedded Kafka broker on " + bootstrap + " did not accept clients within "
                                + startupTimeout.toMillis() + " ms",
                        e);
            } catch (RuntimeException | Error e) {
                shutdownQuietly(server);
                throw e;
            } finally {
                starter.shutdownNow();
            }
            LOG.info("Embedded Kafka broker ready on {}", bootstrap);
            return new EmbeddedKafkaBroker(server, clientPort, quorumPort, dir, tempDir, startupTimeout);
        }

        private void awaitClientsAccepted(String bootstrap, long deadline)
                throws InterruptedException, TimeoutException {
            try (Admin probe = Admin.create(adminConfig(bootstrap, startupTimeout))) {
                Exception last = null;
                while (System.nanoTime() < deadline) {
                    try {
                        Collection<Node> nodes = probe.describeCluster()
                                .nodes()
                                .get(Math.min(5_000, remainingMillis(deadline)), TimeUnit.MILLISECONDS);
                        if (!nodes.isEmpty()) {
                            return;
                        }
                    } catch (ExecutionException | TimeoutException e) {
                        last = e;
                    }
                    Thread.sleep(100);
                }
                TimeoutException timeout = new TimeoutException("describeCluster did not succeed");
                if (last != null) {
                    timeout.initCause(last);
                }
                throw timeout;
            }
        }

        private Properties brokerConfig(Path dir, int clientPort, int quorumPort) {
            Properties props = new Properties();
            // KRaft combined mode, single static voter.
            props.put("process.roles", "broker,controller");
            props.put("node.id", String.valueOf(NODE_ID));
            props.put("controller.quorum.voters", NODE_ID + "@" + HOST + ":" + quorumPort);
            props.put("controller.listener.names", CONTROLLER_LISTENER);
            props.put(
                    "listeners",
                    CLIENT_LISTENER + "://" + HOST + ":" + clientPort + "," + CONTROLLER_LISTENER + "://" + HOST + ":"
                            + quorumPort);
            props.put("advertised.listeners", CLIENT_LISTENER + "://" + HOST + ":" + clientPort);
            props.put(
                    "listener.security.protocol.map",
                    CLIENT_LISTENER + ":PLAINTEXT," + CONTROLLER_LISTENER + ":PLAINTEXT");
            props.put("inter.broker.listener.name", CLIENT_LISTENER);
            props.put("log.dirs", dir.toString());
            props.put("metadata.log.dir", dir.toString());

            // Single replica everywhere, so internal topics can be created and transactions work.
            props.put("default.replication.factor", "1");
            props.put("min.insync.replicas", "1");
            props.put("offsets.topic.replication.factor", "1");
            props.put("offsets.topic.num.partitions", "1");
            props.put("transaction.state.log.replication.factor", "1");
            props.put("transaction.state.log.min.isr", "1");
            props.put("transaction.state.log.num.partitions", "1");
            props.put("transaction.max.timeout.ms", String.valueOf(TRANSACTION_MAX_TIMEOUT.toMillis()));
            props.put("share.coordinator.state.topic.replication.factor", "1");
            props.put("share.coordinator.state.topic.min.isr", "1");
            props.put("share.coordinator.state.topic.num.partitions", "1");
            props.put("num.partitions", "1");
            props.put("group.initial.rebalance.delay.ms", "0");
            props.put("group.streams.initial.rebalance.delay.ms", "0");

            // Small footprint and fast reaction on a laptop / CI box.
            props.put("num.network.threads", "2");
            props.put("num.io.threads", "2");
            props.put("background.threads", "2");
            props.put("num.recovery.threads.per.data.dir", "1");
            props.put("log.cleaner.threads", "1");
            props.put("log.cleaner.dedupe.buffer.size", String.valueOf(2 * 1024 * 1024));
            props.put("broker.heartbeat.interval.ms", "500");
            props.put("broker.session.timeout.ms", "6000");
            props.put("server.max.startup.time.ms", String.valueOf(startupTimeout.toMillis()));
            props.put("auto.create.topics.enable", "true");

            props.putAll(brokerProperties);
            return props;
        }

        private void format(Path dir) {
            if (Files.exists(dir.resolve(MetaPropertiesEnsemble.META_PROPERTIES_NAME))) {
                LOG.info("Kafka log directory {} is already formatted; reusing it", dir);
                return;
            }
            ByteArrayOutputStream output = new ByteArrayOutputStream();
            String clusterId = Uuid.randomUuid().toString();
            Formatter formatter = new Formatter()
                    .setPrintStream(new PrintStream(output, true, StandardCharsets.UTF_8))
                    .setNodeId(NODE_ID)
                    .setClusterId(clusterId)
                    .setDirectories(List.of(dir.toString()))
                    .setMetadataLogDirectory(dir.toString())
                    .setControllerListenerName(CONTROLLER_LISTENER)
                    .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION);
            featureLevels.forEach(formatter::setFeatureLevel);
            try {
                formatter.run();
            } catch (Exception e) {
                throw new IllegalStateException(
                        "Could not format Kafka log directory " + dir + ": " + e.getMessage(), e);
            }
            output.toString(StandardCharsets.UTF_8)
                    .lines()
                    .filter(line -> !line.isBlank())
                    .forEach(line -> LOG.debug("Formatter: {}", line));
            LOG.debug(
                    "Formatted {} for cluster {} (metadata version {})",
                    dir,
                    clusterId,
                    MetadataVersion.LATEST_PRODUCTION);
        }

        private static int checkPort(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port out of range: " + port);
            }
            return port;
        }
    }

    private static int freePort(int... exclude) {
        for (int i = 0; i < 10; i++) {
            try (ServerSocket socket = new ServerSocket()) {
                socket.setReuseAddress(true);
                socket.bind(new InetSocketAddress(InetAddress.getByName(HOST), 0));
                int candidate = socket.getLocalPort();
                if (Arrays.stream(exclude).noneMatch(p -> p == candidate)) {
                    return candidate;
                }
            } catch (IOException e) {
                throw new UncheckedIOException("Could not find a free port on " + HOST, e);
            }
        }
        throw new IllegalStateException("Could not find a free port on " + HOST);
    }

    /** True if {@code t} was caused by Kafka's SocketServer failing to bind {@code 127.0.0.1:port}. */
    private static boolean causedByBindFailure(Throwable t, int port) {
        String needle = "failed to bind to " + HOST + ":" + port + ":";
        List<Throwable> seen = new ArrayList<>();
        boolean bindException = false;
        boolean portMatches = false;
        for (Throwable c = t; c != null && !seen.contains(c); c = c.getCause()) {
            seen.add(c);
            bindException |= c instanceof BindException;
            portMatches |= c.getMessage() != null && c.getMessage().contains(needle);
        }
        return bindException && portMatches;
    }
}
