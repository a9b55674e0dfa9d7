package dev.biometry.cluster;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.Uuid;

/**
 * The processes of one scenario, each its own JVM on loopback ports picked free at start: a Kafka 4.2 broker in
 * KRaft combined mode (its class path is the harness's own: {@code kafka_2.13} and its dependencies), and a Flink
 * standalone cluster assembled from Maven Central jars in {@code flinkLib}: one JobManager
 * ({@code StandaloneSessionClusterEntrypoint}) and TaskManagers ({@code TaskManagerRunner}, one slot each),
 * started as Flink's scripts start them: JVM memory flags and dynamic memory settings from
 * {@code BashJavaUtils GET_JM_RESOURCE_PARAMS / GET_TM_RESOURCE_PARAMS}, and {@code env.java.opts.all}.
 * Everything is written under {@code work}.
 */
final class LocalCluster implements AutoCloseable {

    /** Flink's default {@code env.java.opts.all} for Java 17 (flink-dist's config.yaml). */
    static final String FLINK_JAVA_OPTS = String.join(" ",
            "--add-exports=java.base/sun.net.util=ALL-UNNAMED", "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
            "--add-exports=jdk.compiler/com.sun.tools.javac.api=ALL-UNNAMED",
            "--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
            "--add-exports=jdk.compiler/com.sun.tools.javac.parser=ALL-UNNAMED",
            "--add-exports=jdk.compiler/com.sun.tools.javac.tree=ALL-UNNAMED",
            "--add-exports=jdk.compiler/com.sun.tools.javac.util=ALL-UNNAMED",
            "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
            "--add-opens=java.base/java.lang=ALL-UNNAMED", "--add-opens=java.base/java.net=ALL-UNNAMED",
            "--add-opens=java.base/java.io=ALL-UNNAMED", "--add-opens=java.base/java.nio=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED", "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
            "--add-opens=java.base/java.text=ALL-UNNAMED", "--add-opens=java.base/java.time=ALL-UNNAMED",
            "--add-opens=java.base/java.util=ALL-UNNAMED", "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED");

    private final Path work;
    private final Path flinkLib;
    private final Path conf;
    private final Path logs;
    private final Path pids;
    private final String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    final int kafkaPort;
    final int kafkaControllerPort;
    final int restPort;
    private final int rpcPort;
    private final int blobPort;
    private final Path kafkaDir;
    private JvmProcess kafka;
    private JvmProcess jobManager;
    /** TaskManagers by resource id (tm-1, tm-2, ...), dead ones included; read by the scraper while one starts. */
    final Map<String, JvmProcess> taskManagers = new ConcurrentSkipListMap<>();
    /** Prometheus port of each TaskManager. */
    final Map<String, Integer> prometheusPorts = new ConcurrentSkipListMap<>();
    private final List<JvmProcess> all = new java.util.concurrent.CopyOnWriteArrayList<>();

    LocalCluster(Path work, Path flinkLib) throws IOException {
        this.work = work;
        this.flinkLib = flinkLib;
        this.conf = Files.createDirectories(work.resolve("flink/conf"));
        this.logs = Files.createDirectories(work.resolve("log"));
        this.kafkaDir = Files.createDirectories(work.resolve("kafka"));
        Files.createDirectories(work.resolve("tmp"));
        this.pids = work.resolve("pids");
        int[] ports = freePorts(5);
        kafkaPort = ports[0];
        kafkaControllerPort = ports[1];
        restPort = ports[2];
        rpcPort = ports[3];
        blobPort = ports[4];
    }

    String bootstrapServers() {
        return "127.0.0.1:" + kafkaPort;
    }

    String restUrl() {
        return "http://127.0.0.1:" + restPort;
    }

    Path checkpointDir() {
        return work.resolve("checkpoints");
    }

    Path savepointDir() {
        return work.resolve("savepoints");
    }

    // ---------------------------------------------------------------- Kafka

    /** Writes server.properties and formats the log directory (KRaft, one combined broker/controller node). */
    void formatKafka() throws Exception {
        Path logDir = kafkaDir.resolve("data");
        String props = String.join("\n",
                "process.roles=broker,controller",
                "node.id=1",
                "controller.quorum.voters=1@127.0.0.1:" + kafkaControllerPort,
                "listeners=PLAINTEXT://127.0.0.1:" + kafkaPort + ",CONTROLLER://127.0.0.1:" + kafkaControllerPort,
                "advertised.listeners=PLAINTEXT://127.0.0.1:" + kafkaPort,
                "controller.listener.names=CONTROLLER",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                "inter.broker.listener.name=PLAINTEXT",
                "log.dirs=" + logDir,
                "num.partitions=2",
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=4",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "transaction.state.log.num.partitions=4",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                // The job's --transaction-timeout (15 min by default) must not exceed it.
                "transaction.max.timeout.ms=900000",
                "group.initial.rebalance.delay.ms=0",
                // Longer than the default 9 s for a loaded machine, but well below the broker's registration
                // timeout: a broker restarted after kill -9 is refused (duplicate registration) until the session
                // of its previous incarnation expires, and gives up after initial.broker.registration.timeout.ms.
                "broker.session.timeout.ms=20000",
                "initial.broker.registration.timeout.ms=180000",
                "auto.create.topics.enable=false",
                "") ;
        Files.writeString(kafkaDir.resolve("server.properties"), props);
        Files.writeString(kafkaDir.resolve("log4j2.properties"), log4j("INFO"));
        List<String> cmd = kafkaJava("-Xmx256m");
        cmd.addAll(List.of("kafka.tools.StorageTool", "format", "-t", Uuid.randomUuid().toString(),
                "-c", kafkaDir.resolve("server.properties").toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(logs.resolve("kafka-format.out").toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("kafka storage format failed: " + Files.readString(logs.resolve("kafka-format.out")));
        }
    }

    /** Starts the broker (again, on the same log directory and ports) and waits until it accepts connections. */
    void startKafka() throws Exception {
        List<String> cmd = kafkaJava("-Xmx512m");
        cmd.addAll(List.of("kafka.Kafka", kafkaDir.resolve("server.properties").toString()));
        kafka = JvmProcess.start("kafka", cmd, logs.resolve("kafka.out"), pids);
        all.add(kafka);
        awaitPort(kafkaPort, kafka, Duration.ofMinutes(2));
    }

    JvmProcess kafka() {
        return kafka;
    }

    private List<String> kafkaJava(String heap) {
        List<String> cmd = new ArrayList<>(List.of(java, heap, "-Djava.io.tmpdir=" + work.resolve("tmp"),
                "-Dlog4j2.configurationFile=" + kafkaDir.resolve("log4j2.properties"),
                "-Dlog.file=" + logs.resolve("kafka.log"),
                "-cp", System.getProperty("java.class.path")));
        return cmd;
    }

    // ---------------------------------------------------------------- Flink

    /**
     * Writes conf/config.yaml as docs/operations.md recommends for production (RocksDB with incremental checkpoints to a
     * checkpoint directory, exponential-delay restarts, Prometheus reporter, native libraries parent-first) with
     * this run's ports and directories, and the log4j configuration.
     */
    void writeFlinkConfig() throws IOException {
        String yaml = """
                env:
                  java:
                    opts:
                      all: %s
                      # Native libraries unpacked by JavaCPP and ONNX Runtime go to java.io.tmpdir / this cache.
                      taskmanager: -Djava.io.tmpdir=%s -Dorg.bytedeco.javacpp.cachedir=%s
                      jobmanager: -Djava.io.tmpdir=%s
                jobmanager:
                  bind-host: 127.0.0.1
                  rpc:
                    address: 127.0.0.1
                    port: %d
                  memory:
                    process:
                      size: 1024m
                  execution:
                    failover-strategy: region
                taskmanager:
                  bind-host: 127.0.0.1
                  host: 127.0.0.1
                  numberOfTaskSlots: 1
                  memory:
                    process:
                      size: 2048m
                    # ONNX Runtime sessions (model weights + arena) and OpenCV buffers live off-heap.
                    task:
                      off-heap:
                        size: 256m
                    managed:
                      fraction: 0.2
                rest:
                  address: 127.0.0.1
                  bind-address: 127.0.0.1
                  port: %d
                blob:
                  server:
                    port: %d
                  storage:
                    directory: %s
                io:
                  tmp:
                    dirs: %s
                web:
                  tmpdir: %s
                  upload:
                    dir: %s
                # A killed TaskManager is noticed by failed heartbeat RPCs (heartbeat.rpc-failure-threshold: 2), so
                # within ~2 intervals; the timeout is for a live but starved one (a loaded 2-core machine).
                heartbeat:
                  interval: 5000
                  timeout: 60000
                # RPC timeout (default 10 s): a TaskManager that has just started loads the 115 MB job jar while it
                # answers its first task deployments; on a loaded machine 10 s was too short.
                pekko:
                  ask:
                    timeout: 60s
                parallelism:
                  default: 1
                state:
                  backend:
                    type: rocksdb
                execution:
                  checkpointing:
                    # Never the JobManager's heap: checkpoints go to files.
                    storage: filesystem
                    dir: file://%s
                    savepoint-dir: file://%s
                    incremental: true
                    interval: 1s
                    externalized-checkpoint-retention: RETAIN_ON_CANCELLATION
                restart-strategy:
                  type: exponential-delay
                  exponential-delay:
                    initial-backoff: 1s
                    max-backoff: 10s
                    backoff-multiplier: 2.0
                    reset-backoff-threshold: 1min
                    jitter-factor: 0.1
                metrics:
                  reporter:
                    prom:
                      factory:
                        class: org.apache.flink.metrics.prometheus.PrometheusReporterFactory
                      port: 9249
                classloader:
                  parent-first-patterns:
                    # ONNX Runtime and JavaCPP/JavaCV from lib/: their native libraries load once per JVM.
                    additional: ai.onnxruntime.;org.bytedeco.
                """.formatted(FLINK_JAVA_OPTS, work.resolve("tmp"), work.resolve("javacpp-cache"), work.resolve("tmp"),
                rpcPort, restPort, blobPort, work.resolve("blobs"), work.resolve("tmp"), work.resolve("web"),
                work.resolve("web/upload"), checkpointDir(), savepointDir());
        Files.writeString(conf.resolve("config.yaml"), yaml);
        Files.writeString(conf.resolve("log4j.properties"), log4j("WARN"));
    }

    Path configYaml() {
        return conf.resolve("config.yaml");
    }

    void startJobManager() throws Exception {
        String[] params = resourceParams("GET_JM_RESOURCE_PARAMS");
        List<String> cmd = flinkJava(params[0], "jobmanager", "jobmanager.log");
        cmd.add("org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint");
        cmd.addAll(List.of("--configDir", conf.toString()));
        cmd.addAll(dynamic(params[1]));
        jobManager = JvmProcess.start("jobmanager", cmd, logs.resolve("jobmanager.out"), pids);
        all.add(jobManager);
        awaitPort(restPort, jobManager, Duration.ofMinutes(2));
    }

    JvmProcess jobManager() {
        return jobManager;
    }

    /** Starts TaskManager {@code tm-N} (N = how many were started before + 1); returns its resource id. */
    String startTaskManager() throws Exception {
        String id = "tm-" + (taskManagers.size() + 1);
        int prometheus = freePorts(1)[0];
        String[] params = resourceParams("GET_TM_RESOURCE_PARAMS");
        List<String> cmd = flinkJava(params[0], "taskmanager", id + ".log");
        cmd.add("org.apache.flink.runtime.taskexecutor.TaskManagerRunner");
        cmd.addAll(List.of("--configDir", conf.toString()));
        cmd.addAll(dynamic(params[1]));
        cmd.addAll(List.of("-D", "taskmanager.resource-id=" + id, "-D", "metrics.reporter.prom.port=" + prometheus));
        JvmProcess tm = JvmProcess.start(id, cmd, logs.resolve(id + ".out"), pids);
        all.add(tm);
        prometheusPorts.put(id, prometheus);
        taskManagers.put(id, tm);
        return id;
    }

    /** The JVM flags and the dynamic memory settings Flink's scripts compute with BashJavaUtils. */
    private String[] resourceParams(String command) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx128m", "-cp", flinkLib + "/*",
                "org.apache.flink.runtime.util.bash.BashJavaUtils", command, "--configDir", conf.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("BashJavaUtils " + command + " failed:\n" + out);
        }
        List<String> results = out.lines().filter(l -> l.startsWith("BASH_JAVA_UTILS_EXEC_RESULT:"))
                .map(l -> l.substring("BASH_JAVA_UTILS_EXEC_RESULT:".length()).trim()).toList();
        if (results.size() < 2) {
            throw new IllegalStateException("BashJavaUtils " + command + ": unexpected output:\n" + out);
        }
        return new String[] {results.get(results.size() - 2), results.get(results.size() - 1)};
    }

    /** "-D k=v -D k2=v2" as separate arguments. */
    private static List<String> dynamic(String line) {
        return Arrays.stream(line.trim().split("\\s+")).filter(s -> !s.isEmpty()).toList();
    }

    private List<String> flinkJava(String jvmParams, String role, String logFile) {
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        cmd.addAll(dynamic(jvmParams));
        cmd.addAll(dynamic(FLINK_JAVA_OPTS));
        cmd.add("-Djava.io.tmpdir=" + work.resolve("tmp"));
        if (role.equals("taskmanager")) {
            cmd.add("-Dorg.bytedeco.javacpp.cachedir=" + work.resolve("javacpp-cache"));
        }
        cmd.add("-Dlog.file=" + logs.resolve(logFile));
        cmd.add("-Dlog4j.configurationFile=file:" + conf.resolve("log4j.properties"));
        cmd.addAll(List.of("-cp", flinkLib + "/*"));
        return cmd;
    }

    /** A log4j2 configuration writing to the file named by the system property log.file (as Flink's does). */
    private static String log4j(String kafkaLevel) {
        String file = "${sys:log.file}";
        return String.join("\n",
                "rootLogger.level = INFO",
                "rootLogger.appenderRef.main.ref = MainAppender",
                "appender.main.name = MainAppender",
                "appender.main.type = File",
                "appender.main.append = true",
                "appender.main.fileName = " + file,
                "appender.main.layout.type = PatternLayout",
                "appender.main.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n",
                "logger.kafka.name = org.apache.kafka",
                "logger.kafka.level = " + kafkaLevel,
                "logger.kafkaserver.name = kafka",
                "logger.kafkaserver.level = " + kafkaLevel,
                "");
    }

    // ---------------------------------------------------------------- helpers

    static int[] freePorts(int n) throws IOException {
        int[] ports = new int[n];
        List<ServerSocket> open = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                open.add(s);
                ports[i] = s.getLocalPort();
            }
        } finally {
            for (ServerSocket s : open) {
                s.close();
            }
        }
        return ports;
    }

    static void awaitPort(int port, JvmProcess process, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.alive()) {
                throw new IllegalStateException(process.name + " exited (" + process.process.exitValue()
                        + "); see " + process.output);
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                return;
            } catch (IOException e) {
                Thread.sleep(200);
            }
        }
        throw new IllegalStateException(process.name + " did not open port " + port + " within " + timeout);
    }

    /** Stops every process still running (TaskManagers, JobManager, then the broker). */
    @Override
    public synchronized void close() {
        List<JvmProcess> reversed = new ArrayList<>(all);
        Collections.reverse(reversed);
        for (JvmProcess p : reversed) {
            try {
                p.stop(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.process.destroyForcibly();
            }
        }
    }
}
