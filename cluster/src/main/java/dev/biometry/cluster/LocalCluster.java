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
import java.util.LinkedHashMap;
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

    private final Path work;
    /** env.java.opts.all of the written config: Flink's scripts put it on every JobManager and TaskManager JVM. */
    private String javaOptsAll = "";

    private final Path flinkLib;
    private final Path conf;
    private final Path logs;
    private final Path pids;
    private final String java =
            Path.of(System.getProperty("java.home"), "bin", "java").toString();
    final int kafkaPort;
    final int kafkaControllerPort;
    final int restPort;
    private final int rpcPort;
    private final int blobPort;
    private final int jobManagerPrometheusPort;
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
        int[] ports = freePorts(6);
        kafkaPort = ports[0];
        kafkaControllerPort = ports[1];
        restPort = ports[2];
        rpcPort = ports[3];
        blobPort = ports[4];
        jobManagerPrometheusPort = ports[5];
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
        String props = String.join(
                "\n",
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
                "");
        Files.writeString(kafkaDir.resolve("server.properties"), props);
        Files.writeString(kafkaDir.resolve("log4j2.properties"), log4j("INFO"));
        List<String> cmd = kafkaJava("-Xmx256m");
        cmd.addAll(List.of(
                "kafka.tools.StorageTool",
                "format",
                "-t",
                Uuid.randomUuid().toString(),
                "-c",
                kafkaDir.resolve("server.properties").toString()));
        Process p = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(logs.resolve("kafka-format.out").toFile())
                .start();
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(
                    "kafka storage format failed: " + Files.readString(logs.resolve("kafka-format.out")));
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
        List<String> cmd = new ArrayList<>(List.of(
                java,
                heap,
                "-Djava.io.tmpdir=" + work.resolve("tmp"),
                "-Dlog4j2.configurationFile=" + kafkaDir.resolve("log4j2.properties"),
                "-Dlog.file=" + logs.resolve("kafka.log"),
                "-cp",
                System.getProperty("java.class.path")));
        return cmd;
    }

    // ---------------------------------------------------------------- Flink

    /**
     * Writes conf/config.yaml: the repository's shared Flink configuration ({@code docker/flink/config.yaml}, also
     * the image's and the Kubernetes deployment's) with only what a run on one machine changes overlaid
     * ({@link #oneMachineOverrides}), and the log4j configuration. Returns the overridden keys with the shared
     * file's value (null where the shared file does not set the key).
     */
    Map<String, String> writeFlinkConfig(Path sharedConfig) throws IOException {
        Map<String, String> config = FlinkConfigFile.read(sharedConfig);
        Map<String, String> replaced = new LinkedHashMap<>();
        oneMachineOverrides().forEach((key, value) -> replaced.put(key, config.put(key, value)));
        javaOptsAll = config.getOrDefault("env.java.opts.all", "");
        FlinkConfigFile.write(
                conf.resolve("config.yaml"),
                "Written by the cluster harness: " + sharedConfig + "\nwith these keys overridden for one machine: "
                        + String.join(", ", replaced.keySet()),
                config);
        Files.writeString(conf.resolve("log4j.properties"), log4j("WARN"));
        return replaced;
    }

    /**
     * What differs from a deployment when the whole cluster runs on one machine: loopback addresses and free ports
     * instead of 0.0.0.0 and fixed ports, directories under the work directory instead of the shared volume,
     * smaller processes with one slot each (two TaskManagers on two cores, so one can be killed), patience for a
     * loaded machine, and restarts that back off less so the scenario's recoveries fit its timeouts.
     */
    Map<String, String> oneMachineOverrides() {
        Map<String, String> o = new LinkedHashMap<>();
        o.put("jobmanager.bind-host", "127.0.0.1");
        o.put("jobmanager.rpc.address", "127.0.0.1");
        o.put("jobmanager.rpc.port", Integer.toString(rpcPort));
        o.put("jobmanager.memory.process.size", "1024m");
        o.put("taskmanager.bind-host", "127.0.0.1");
        o.put("taskmanager.host", "127.0.0.1");
        o.put("taskmanager.numberOfTaskSlots", "1");
        o.put("taskmanager.memory.process.size", "2048m");
        // The shared file's off-heap formula with one slot: 55 MB + 1 x (25 MB + 115 MB) = 195 MB.
        o.put("taskmanager.memory.task.off-heap.size", "256m");
        o.put("rest.address", "127.0.0.1");
        o.put("rest.bind-address", "127.0.0.1");
        o.put("rest.port", Integer.toString(restPort));
        o.put("blob.server.port", Integer.toString(blobPort));
        o.put("blob.storage.directory", work.resolve("blobs").toString());
        o.put("io.tmp.dirs", work.resolve("tmp").toString());
        o.put("web.tmpdir", work.resolve("web").toString());
        o.put("web.upload.dir", work.resolve("web/upload").toString());
        o.put("execution.checkpointing.dir", checkpointDir().toUri().toString());
        o.put("execution.checkpointing.savepoint-dir", savepointDir().toUri().toString());
        o.put(
                "state.changelog.dstl.dfs.base-path",
                work.resolve("changelog").toUri().toString());
        // The JobManager's reporter (TaskManagers get their own port on the command line).
        o.put("metrics.reporter.prom.port", Integer.toString(jobManagerPrometheusPort));
        // A killed TaskManager is noticed by failed heartbeat RPCs (heartbeat.rpc-failure-threshold: 2), so within
        // ~2 intervals; the timeout is for a live but starved one (a loaded 2-core machine).
        o.put("heartbeat.interval", "5000");
        o.put("heartbeat.timeout", "60000");
        // RPC timeout (default 10 s): a TaskManager that has just started loads the 115 MB job jar while it answers
        // its first task deployments; on a loaded machine 10 s was too short.
        o.put("pekko.ask.timeout", "60s");
        o.put("parallelism.default", "1");
        o.put("restart-strategy.exponential-delay.max-backoff", "10s");
        o.put("restart-strategy.exponential-delay.reset-backoff-threshold", "1min");
        return o;
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
        List<String> cmd = new ArrayList<>(List.of(
                java,
                "-Xmx128m",
                "-cp",
                flinkLib + "/*",
                "org.apache.flink.runtime.util.bash.BashJavaUtils",
                command,
                "--configDir",
                conf.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("BashJavaUtils " + command + " failed:\n" + out);
        }
        List<String> results = out.lines()
                .filter(l -> l.startsWith("BASH_JAVA_UTILS_EXEC_RESULT:"))
                .map(l -> l.substring("BASH_JAVA_UTILS_EXEC_RESULT:".length()).trim())
                .toList();
        if (results.size() < 2) {
            throw new IllegalStateException("BashJavaUtils " + command + ": unexpected output:\n" + out);
        }
        return new String[] {results.get(results.size() - 2), results.get(results.size() - 1)};
    }

    /** "-D k=v -D k2=v2" as separate arguments. */
    private static List<String> dynamic(String line) {
        return Arrays.stream(line.trim().split("\\s+"))
                .filter(s -> !s.isEmpty())
                .toList();
    }

    private List<String> flinkJava(String jvmParams, String role, String logFile) {
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        cmd.addAll(dynamic(jvmParams));
        cmd.addAll(dynamic(javaOptsAll));
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
        return String.join(
                "\n",
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
                // Changelog backend: a log file that a completed checkpoint handed to the JobManager is released
                // again by its tasks when a materialisation truncates the log, and each release warns.
                "logger.changelogregistry.name = org.apache.flink.changelog.fs.TaskChangelogRegistryImpl",
                "logger.changelogregistry.level = ERROR",
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
                throw new IllegalStateException(
                        process.name + " exited (" + process.process.exitValue() + "); see " + process.output);
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
