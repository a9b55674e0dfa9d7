package dev.biometry.ops;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.biometry.config.JobConfig;
import dev.biometry.testing.TestData;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessSpec;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessUtils;
import org.apache.flink.runtime.jobmanager.JobManagerProcessSpec;
import org.apache.flink.runtime.jobmanager.JobManagerProcessUtils;
import org.junit.jupiter.api.Test;

/**
 * The deployment files under {@code docker/} agree with each other, with the shared Flink configuration
 * {@code docker/flink/config.yaml}, with the job's options and with the docs: the image, the job jar and entry
 * class, parallelism against slots and partitions, the state, restart and metrics settings, the topics and the
 * Prometheus port. The compose file is also validated by {@code docker-compose config -q}. Nothing here runs a
 * container (no Docker engine on these machines).
 */
class DeploymentFilesTest {

    private static final Path ROOT = TestData.repoRoot();
    private static final Path DOCKER = ROOT.resolve("docker");
    private static final ObjectMapper YAML = new YAMLMapper();

    /** Keys of config.yaml that only containers need (the operator and the harness set their own). */
    private static final Set<String> CONTAINER_ONLY =
            Set.of("jobmanager.bind-host", "taskmanager.bind-host", "rest.address", "rest.bind-address");
    /** Keys the FlinkDeployment gives as jobManager/taskManager resources instead of flinkConfiguration. */
    private static final Map<String, String> PROCESS_SIZES = Map.of(
            "jobmanager.memory.process.size", "/spec/jobManager/resource/memory",
            "taskmanager.memory.process.size", "/spec/taskManager/resource/memory");

    private static final String IMAGE = "biometry-flink:0.1.0";
    private static final String JOB_JAR = "/opt/flink/usrlib/biometry-job.jar";
    private static final String MODELS = "/opt/biometry/models";
    /**
     * Native memory measured as docs/operations.md ("Memory") describes, rounded up: the native libraries (ONNX
     * Runtime, OpenCV, JavaCPP) once per TaskManager; per slot, its face engine (ONNX Runtime sessions with their
     * arena) and the transient buffers of decoding the largest accepted image (40 MP, --max-pixels).
     */
    private static final long NATIVE_LIBRARIES_MB = 55;

    private static final long PER_SLOT_MB = 25 + 115;

    @Test
    void theSharedFlinkConfigurationHasTheProductionSettings() throws IOException {
        Map<String, String> conf = flinkConfig();
        assertThat(conf)
                .containsEntry("state.backend.type", "rocksdb")
                .containsEntry("execution.checkpointing.incremental", "true")
                .containsEntry("execution.checkpointing.dir", "file:///flink-data/checkpoints")
                .containsEntry("execution.checkpointing.savepoint-dir", "file:///flink-data/savepoints")
                .containsEntry("execution.checkpointing.externalized-checkpoint-retention", "RETAIN_ON_CANCELLATION")
                .containsEntry("restart-strategy.type", "exponential-delay")
                .containsEntry(
                        "metrics.reporter.prom.factory.class",
                        "org.apache.flink.metrics.prometheus.PrometheusReporterFactory")
                .containsKey("taskmanager.memory.task.off-heap.size")
                .containsKey("env.java.opts.all");
        assertThat(conf.get("classloader.parent-first-patterns.additional").split(";"))
                .contains("ai.onnxruntime.", "org.bytedeco.");
        // Deprecated keys (Flink 2 reads them as fallbacks) would hide a second, conflicting value.
        assertThat(conf)
                .doesNotContainKeys(
                        "state.checkpoints.dir",
                        "state.savepoints.dir",
                        "state.backend.incremental",
                        "state.checkpoints.num-retained",
                        "state.backend");
    }

    @Test
    void flinkReadsTheSharedConfigurationAndItsMemoryAddsUp() {
        Configuration conf =
                GlobalConfiguration.loadConfiguration(DOCKER.resolve("flink").toString());
        assertThat(conf.get(StateBackendOptions.STATE_BACKEND)).isEqualTo("rocksdb");
        assertThat(conf.get(CheckpointingOptions.INCREMENTAL_CHECKPOINTS)).isTrue();
        assertThat(conf.get(CheckpointingOptions.CHECKPOINTS_DIRECTORY)).isEqualTo("file:///flink-data/checkpoints");
        assertThat(conf.get(CheckpointingOptions.SAVEPOINT_DIRECTORY)).isEqualTo("file:///flink-data/savepoints");
        assertThat(conf.get(RestartStrategyOptions.RESTART_STRATEGY)).isEqualTo("exponential-delay");
        assertThat(conf.get(CoreOptions.ALWAYS_PARENT_FIRST_LOADER_PATTERNS_ADDITIONAL))
                .contains("ai.onnxruntime.", "org.bytedeco.");

        // What Flink's start scripts compute (BashJavaUtils): fails when the sizes do not fit together.
        TaskExecutorProcessSpec tm = TaskExecutorProcessUtils.processSpecFromConfig(conf);
        assertThat(tm.getTaskOffHeapSize()).isEqualTo(MemorySize.parse("512m"));
        assertThat(tm.getTaskHeapSize().getMebiBytes())
                .as("task heap of the TaskManager")
                .isGreaterThanOrEqualTo(512);
        assertThat(tm.getNumSlots()).isEqualTo(2);
        JobManagerProcessSpec jm = JobManagerProcessUtils.processSpecFromConfig(conf);
        assertThat(jm.getJvmHeapMemorySize().getMebiBytes()).isGreaterThanOrEqualTo(512);
    }

    @Test
    void theOffHeapBudgetCoversEverySlotsEngine() throws IOException {
        Map<String, String> conf = flinkConfig();
        int slots = Integer.parseInt(conf.get("taskmanager.numberOfTaskSlots"));
        long offHeap = megabytes(conf.get("taskmanager.memory.task.off-heap.size"));
        long process = megabytes(conf.get("taskmanager.memory.process.size"));
        assertThat(offHeap)
                .as("off-heap for the native libraries and %d slots", slots)
                .isGreaterThanOrEqualTo(NATIVE_LIBRARIES_MB + slots * PER_SLOT_MB);
        assertThat(process)
                .as("process size leaves heap, managed and network memory")
                .isGreaterThan(2 * offHeap);
    }

    @Test
    void theKubernetesDeploymentRepeatsTheSharedConfiguration() throws IOException {
        JsonNode deployment = k8sDeployment();
        Map<String, String> k8s = new TreeMap<>();
        deployment
                .at("/spec/flinkConfiguration")
                .fields()
                .forEachRemaining(e -> k8s.put(e.getKey(), e.getValue().asText()));
        Map<String, String> shared = flinkConfig();
        for (Map.Entry<String, String> e : shared.entrySet()) {
            if (CONTAINER_ONLY.contains(e.getKey())) {
                continue;
            }
            if (PROCESS_SIZES.containsKey(e.getKey())) {
                assertThat(deployment.at(PROCESS_SIZES.get(e.getKey())).asText())
                        .as(e.getKey())
                        .isEqualTo(e.getValue());
                continue;
            }
            assertThat(k8s)
                    .as("flinkConfiguration of docker/k8s/flink-deployment.yaml")
                    .containsEntry(e.getKey(), e.getValue());
        }
        // Whatever the FlinkDeployment adds is Kubernetes-specific, never a second value of a shared setting.
        Set<String> extra =
                k8s.keySet().stream().filter(k -> !shared.containsKey(k)).collect(Collectors.toSet());
        assertThat(extra).allSatisfy(k -> assertThat(k).matches("(high-availability|kubernetes)\\..*"));
    }

    @Test
    void imageJarEntryClassAndModelsAgreeEverywhere() throws Exception {
        String dockerfile = Files.readString(DOCKER.resolve("Dockerfile"));
        assertThat(dockerfile)
                .contains("ARG FLINK_IMAGE=flink:2.2.1-java17", "FROM ${FLINK_IMAGE}")
                .contains("/src/jobs/target/biometry-job.jar " + JOB_JAR)
                .contains("docker/flink/config.yaml /opt/flink/conf/config.yaml")
                .contains("bash models/fetch.sh")
                .contains(MODELS + "/");
        assertThat(dockerfile.strip()).endsWith("USER flink");

        JsonNode compose = compose();
        JsonNode deployment = k8sDeployment();
        for (String service : List.of("jobmanager", "taskmanager")) {
            assertThat(compose.at("/services/" + service + "/image").asText()).isEqualTo(IMAGE);
            assertThat(compose.at("/services/" + service + "/build/dockerfile").asText())
                    .isEqualTo("docker/Dockerfile");
        }
        assertThat(deployment.at("/spec/image").asText()).isEqualTo(IMAGE);
        assertThat(deployment.at("/spec/job/jarURI").asText()).isEqualTo("local://" + JOB_JAR);
        assertThat(deployment.at("/spec/job/upgradeMode").asText()).isEqualTo("savepoint");
        assertThat(deployment.at("/spec/flinkVersion").asText()).isEqualTo("v2_2");

        String entryClass = deployment.at("/spec/job/entryClass").asText();
        List<String> jmCommand =
                words(compose.at("/services/jobmanager/command").asText());
        assertThat(jmCommand).startsWith("standalone-job", "--job-classname", entryClass);
        assertThat(Class.forName(entryClass, false, getClass().getClassLoader()))
                .isNotNull();
        assertThat(option(jmCommand, "models")).isEqualTo(MODELS);
        assertThat(option(k8sArgs(), "models")).isEqualTo(MODELS);

        for (Path doc : List.of(ROOT.resolve("docs/operations.md"))) {
            assertThat(Files.readString(doc)).as(doc.toString()).contains(IMAGE, JOB_JAR);
        }
    }

    @Test
    void jobArgumentsAreValidOptionsAndParallelismFitsSlotsAndPartitions() throws Exception {
        Map<String, String> conf = flinkConfig();
        int slots = Integer.parseInt(conf.get("taskmanager.numberOfTaskSlots"));

        JsonNode deployment = k8sDeployment();
        List<String> k8sArgs = k8sArgs();
        JobConfig k8sJob = parseJobArgs(k8sArgs);
        int k8sParallelism = deployment.at("/spec/job/parallelism").asInt();
        assertThat(k8sJob.parallelism()).as("--parallelism in the job's args").isEqualTo(k8sParallelism);
        assertThat(k8sParallelism % slots).as("whole TaskManagers").isZero();
        assertThat(deployment.at("/spec/taskManager/resource/cpu").asInt())
                .as("one core per slot")
                .isEqualTo(slots);

        List<JsonNode> topics = yamlDocuments(DOCKER.resolve("k8s/kafka-topics.yaml"));
        assertThat(topics)
                .extracting(t -> t.at("/spec/topicName").asText())
                .containsExactlyInAnyOrderElementsOf(List.of(
                        k8sJob.mediaTopic(),
                        k8sJob.requestsTopic(),
                        k8sJob.resultsTopic(),
                        k8sJob.foldersTopic(),
                        k8sJob.deadLetterTopic()));
        assertThat(topics).allSatisfy(t -> {
            assertThat(t.at("/kind").asText()).isEqualTo("KafkaTopic");
            assertThat(t.at("/spec/partitions").asInt())
                    .as("partitions >= parallelism")
                    .isGreaterThanOrEqualTo(k8sParallelism);
        });

        JsonNode compose = compose();
        List<String> jmCommand =
                words(compose.at("/services/jobmanager/command").asText());
        List<String> composeArgs = jmCommand.subList(jmCommand.indexOf("run"), jmCommand.size());
        JobConfig composeJob = parseJobArgs(composeArgs);
        assertThat(composeJob.parallelism())
                .as("compose: one TaskManager's slots")
                .isEqualTo(slots);
        int partitions = Integer.parseInt(envDefault(
                compose.at("/services/kafka-init/environment/PARTITIONS").asText()));
        assertThat(partitions)
                .as("compose: partitions >= parallelism")
                .isGreaterThanOrEqualTo(composeJob.parallelism());
        String createTopics = compose.at("/services/kafka-init/command/0").asText();
        for (String topic : List.of(
                composeJob.mediaTopic(),
                composeJob.requestsTopic(),
                composeJob.resultsTopic(),
                composeJob.foldersTopic(),
                composeJob.deadLetterTopic())) {
            assertThat(createTopics).contains(" " + topic);
        }
    }

    /**
     * The job accepts the shared configuration as its cluster's: {@code run} checks its transaction timeout against
     * the cluster's checkpoint timeout and tolerated failures, and refuses to start when they do not fit.
     */
    @Test
    void theJobStartsUnderTheSharedConfiguration() throws Exception {
        Configuration conf =
                GlobalConfiguration.loadConfiguration(DOCKER.resolve("flink").toString());
        List<String> jmCommand =
                words(compose().at("/services/jobmanager/command").asText());
        for (List<String> args : List.of(jmCommand.subList(jmCommand.indexOf("run"), jmCommand.size()), k8sArgs())) {
            JobConfig job = parseJobArgs(args);
            org.apache.flink.streaming.api.environment.StreamExecutionEnvironment env =
                    org.apache.flink.streaming.api.environment.StreamExecutionEnvironment.getExecutionEnvironment(conf);
            dev.biometry.pipeline.BiometryJob.Durability durability = dev.biometry.pipeline.BiometryJob.configure(
                    env, job, dev.biometry.pipeline.BiometryJob.Deployment.CLUSTER);
            assertThat(durability.stateBackend()).isEqualTo("rocksdb");
            assertThat(durability.checkpointDir()).isEqualTo("file:///flink-data/checkpoints");
        }
    }

    @Test
    void volumesAndPortsMatchTheConfiguration() throws IOException {
        Map<String, String> conf = flinkConfig();
        JsonNode compose = compose();
        for (String service : List.of("jobmanager", "taskmanager")) {
            List<String> volumes = new ArrayList<>();
            compose.at("/services/" + service + "/volumes").forEach(v -> volumes.add(v.asText()));
            assertThat(volumes)
                    .contains("flink-data:/flink-data")
                    .anySatisfy(v -> assertThat(v).endsWith(":/data/media:ro"));
        }
        assertThat(conf.get("execution.checkpointing.dir")).startsWith("file:///flink-data/");
        JsonNode deployment = k8sDeployment();
        JsonNode container = deployment.at("/spec/podTemplate/spec/containers/0");
        assertThat(container.at("/name").asText()).isEqualTo("flink-main-container");
        List<String> mounts = new ArrayList<>();
        container.at("/volumeMounts").forEach(m -> mounts.add(m.at("/mountPath").asText()));
        assertThat(mounts).contains("/flink-data", "/data/media");
        assertThat(option(k8sArgs(), "media-roots")).isEqualTo("/data/media");
        assertThat(container.at("/ports/0/containerPort").asText()).isEqualTo(conf.get("metrics.reporter.prom.port"));
        JsonNode podMonitor =
                yamlDocuments(DOCKER.resolve("k8s/pod-monitor.yaml")).get(0);
        assertThat(podMonitor.at("/spec/podMetricsEndpoints/0/port").asText())
                .isEqualTo(container.at("/ports/0/name").asText());
        assertThat(podMonitor.at("/spec/selector/matchLabels/app").asText())
                .isEqualTo(deployment.at("/metadata/name").asText());
        assertThat(deployment
                        .at("/spec/podTemplate/spec/securityContext/runAsUser")
                        .asInt())
                .as("the flink user of the official image")
                .isEqualTo(9999);

        // Prometheus scrapes the reporter's port on the JobManager and on every TaskManager replica.
        JsonNode prometheus =
                YAML.readTree(DOCKER.resolve("prometheus/prometheus.yml").toFile());
        JsonNode flinkJob = prometheus.at("/scrape_configs/0");
        assertThat(flinkJob.at("/static_configs/0/targets/0").asText())
                .isEqualTo("jobmanager:" + conf.get("metrics.reporter.prom.port"));
        assertThat(flinkJob.at("/dns_sd_configs/0/names/0").asText()).isEqualTo("taskmanager");
        assertThat(flinkJob.at("/dns_sd_configs/0/port").asText()).isEqualTo(conf.get("metrics.reporter.prom.port"));
        assertThat(prometheus.at("/rule_files/0").asText()).isEqualTo("alerts.yml");

        // Grafana: the provisioned data source is the one every panel names.
        JsonNode datasource = YAML.readTree(DOCKER.resolve("grafana/provisioning/datasources/prometheus.yml")
                .toFile());
        String uid = datasource.at("/datasources/0/uid").asText();
        JsonNode dashboard = new ObjectMapper()
                .readTree(DOCKER.resolve("grafana/dashboards/biometry.json").toFile());
        assertThat(dashboard.at("/panels"))
                .allSatisfy(p -> assertThat(p.at("/datasource/uid").asText()).isEqualTo(uid));
    }

    @Test
    void dockerComposeAcceptsTheComposeFile() throws Exception {
        Path dockerCompose = TestData.toolOrSkip("docker-compose", "docker-compose");
        Process p = new ProcessBuilder(
                        dockerCompose.toString(),
                        "-f",
                        DOCKER.resolve("docker-compose.yml").toString(),
                        "--profile",
                        "api",
                        "config",
                        "-q")
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as("docker-compose config -q: %s", out).isZero();
    }

    // ---------------------------------------------------------------- helpers

    /** docker/flink/config.yaml with nested keys flattened to Flink's dotted keys. */
    static Map<String, String> flinkConfig() throws IOException {
        Map<String, String> flat = new LinkedHashMap<>();
        flatten("", YAML.readTree(DOCKER.resolve("flink/config.yaml").toFile()), flat);
        return flat;
    }

    private static void flatten(String prefix, JsonNode node, Map<String, String> out) {
        if (node.isObject()) {
            node.fields()
                    .forEachRemaining(
                            e -> flatten(prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey(), e.getValue(), out));
        } else {
            out.put(prefix, node.asText());
        }
    }

    private static JsonNode compose() throws IOException {
        return YAML.readTree(DOCKER.resolve("docker-compose.yml").toFile());
    }

    private static JsonNode k8sDeployment() throws IOException {
        JsonNode d = YAML.readTree(DOCKER.resolve("k8s/flink-deployment.yaml").toFile());
        assertThat(d.at("/apiVersion").asText()).isEqualTo("flink.apache.org/v1beta1");
        assertThat(d.at("/kind").asText()).isEqualTo("FlinkDeployment");
        return d;
    }

    private static List<String> k8sArgs() throws IOException {
        List<String> args = new ArrayList<>();
        k8sDeployment().at("/spec/job/args").forEach(a -> args.add(a.asText()));
        return args;
    }

    static List<JsonNode> yamlDocuments(Path file) throws IOException {
        List<JsonNode> docs = new ArrayList<>();
        try (var parser = new YAMLFactory().createParser(file.toFile())) {
            YAML.readValues(parser, JsonNode.class).forEachRemaining(docs::add);
        }
        return docs;
    }

    /** A command string split on white space, with compose's {@code ${VAR:-default}} replaced by the default. */
    private static List<String> words(String command) {
        return Arrays.stream(substituteDefaults(command).trim().split("\\s+"))
                .filter(w -> !w.isEmpty())
                .toList();
    }

    private static String substituteDefaults(String text) {
        Matcher m = Pattern.compile("\\$\\{[A-Z_]+:-([^}]*)}").matcher(text);
        return m.replaceAll(r -> Matcher.quoteReplacement(r.group(1)));
    }

    private static String envDefault(String value) {
        return substituteDefaults(value);
    }

    private static String option(List<String> args, String name) {
        int i = args.indexOf("--" + name);
        assertThat(i).as("--%s in %s", name, args).isNotNegative();
        return args.get(i + 1);
    }

    /** The job's own parser over {@code run --name value ...} (a Kafka properties file is replaced by an empty one). */
    private static JobConfig parseJobArgs(List<String> args) throws IOException {
        assertThat(args.get(0)).isEqualTo("run");
        Map<String, String> options = new LinkedHashMap<>();
        for (int i = 1; i < args.size(); i += 2) {
            assertThat(args.get(i)).startsWith("--");
            options.put(args.get(i).substring(2), args.get(i + 1));
        }
        if (options.containsKey("kafka-properties-file")) {
            Path empty = Files.createTempFile("client", ".properties");
            empty.toFile().deleteOnExit();
            options.put("kafka-properties-file", empty.toString());
        }
        return JobConfig.fromOptions(options, Map.of());
    }

    private static long megabytes(String size) {
        String s = size.trim().toLowerCase(java.util.Locale.ROOT);
        if (s.endsWith("g")) {
            return Long.parseLong(s.substring(0, s.length() - 1)) * 1024;
        }
        assertThat(s).endsWith("m");
        return Long.parseLong(s.substring(0, s.length() - 1));
    }
}
