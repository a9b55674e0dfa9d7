package dev.biometry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.biometry.local.EmbeddedKafkaBroker;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Lists the packaged jars (failsafe, after {@code package}): the cluster jar {@code jobs/target/biometry-job.jar}
 * holds the job and the commands a cluster runs, and no class of the single-machine tools (this module's classes,
 * the testkit's in-process broker and hostile media, Kafka's broker); the standalone jar
 * {@code launcher/target/biometry-local.jar} holds both and dispatches every command.
 */
@org.junit.jupiter.api.Tag("integration")
class ClusterJarContentsTest {

    private static final Path JOB_JAR =
            Path.of(System.getProperty("biometry.job.jar", "../jobs/target/biometry-job.jar"));
    private static final Path LOCAL_JAR =
            Path.of(System.getProperty("biometry.local.jar", "target/biometry-local.jar"));

    /** What a cluster runs: the entry, its commands and the job. */
    private static final List<String> JOB_CLASSES = List.of(
            "dev/biometry/cli/Main.class",
            "dev/biometry/cli/RunCommand.class",
            "dev/biometry/cli/BatchCommand.class",
            "dev/biometry/cli/VerifyCommand.class",
            "dev/biometry/cli/EvaluateCommand.class",
            "dev/biometry/pipeline/BiometryJob.class",
            "dev/biometry/pipeline/KafkaEndpoints.class");

    @Test
    void clusterJarHoldsTheJobAndNoSingleMachineTool() throws IOException {
        List<String> entries = classes(JOB_JAR);
        assertThat(entries).as(JOB_JAR + " (build it with mvn package)").contains(JOB_CLASSES.toArray(String[]::new));
        assertThat(mainClass(JOB_JAR)).isEqualTo(Main.class.getName());

        // Every class this module compiles (tools, bench, soak, the launcher's entry), nested ones included.
        List<String> launcherClasses = compiledClasses(location(LocalMain.class));
        assertThat(launcherClasses)
                .contains(
                        "dev/biometry/cli/LocalMain.class",
                        "dev/biometry/cli/BenchCommand.class",
                        "dev/biometry/cli/SoakCommand.class",
                        "dev/biometry/cli/LocalCommand.class");
        // The testkit's classes: the in-process broker and the hostile media.
        List<String> testkitClasses = compiledClasses(location(EmbeddedKafkaBroker.class));
        assertThat(testkitClasses)
                .contains("dev/biometry/local/EmbeddedKafkaBroker.class", "dev/biometry/cli/HostileMedia.class");

        assertThat(entries).doesNotContainAnyElementsOf(launcherClasses);
        assertThat(entries).doesNotContainAnyElementsOf(testkitClasses);
        assertThat(entries)
                .as("local, bench, soak, launcher and Kafka broker code")
                // The broker (kafka_2.13 and its modules), not the org.apache.kafka.server interfaces of kafka-clients.
                .noneMatch(e -> e.startsWith("dev/biometry/local/")
                        || e.startsWith("kafka/server/")
                        || e.startsWith("dev/biometry/http/")
                        || e.startsWith("io/javalin/")
                        || e.startsWith("org/apache/kafka/raft/")
                        || e.startsWith("org/apache/kafka/metadata/")
                        || Set.of("Bench", "Soak", "Local", "RawChain", "PipelineRun", "HostileMedia", "ThreadCpu")
                                .stream()
                                .anyMatch(p -> e.startsWith("dev/biometry/cli/" + p)));
        assertThat(entries)
                .as("Flink is provided by the cluster")
                .noneMatch(e -> e.startsWith("org/apache/flink/configuration/"));
    }

    @Test
    void clusterJarWithoutFlinkSaysWhereToRunItInsteadOfFailing() throws Exception {
        for (List<String> args : List.of(List.of("--help"), List.of("verify", "a.jpg", "b.jpg"))) {
            List<String> cmd = new java.util.ArrayList<>(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", JOB_JAR.toString()));
            cmd.addAll(args);
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String said = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
            assertThat(p.exitValue()).as(said).isEqualTo(2);
            assertThat(said)
                    .as(String.join(" ", args))
                    .contains("flink run", "biometry-local.jar")
                    .doesNotContain("Exception");
        }
    }

    @Test
    void standaloneJarHoldsEverythingAndDispatchesEveryCommand() throws Exception {
        List<String> entries = classes(LOCAL_JAR);
        assertThat(entries)
                .as(LOCAL_JAR.toString())
                .contains(JOB_CLASSES.toArray(String[]::new))
                .contains(
                        "dev/biometry/cli/LocalMain.class",
                        "dev/biometry/cli/BenchCommand.class",
                        "dev/biometry/local/EmbeddedKafkaBroker.class",
                        "kafka/server/KafkaRaftServer.class",
                        "org/apache/flink/streaming/api/environment/StreamExecutionEnvironment.class");
        assertThat(mainClass(LOCAL_JAR)).isEqualTo(LocalMain.class.getName());

        Process help = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-jar",
                        LOCAL_JAR.toString(),
                        "--help")
                .redirectErrorStream(true)
                .start();
        String usage = new String(help.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(help.waitFor(2, TimeUnit.MINUTES)).isTrue();
        assertThat(help.exitValue()).as(usage).isZero();
        for (String command : List.of(
                "verify",
                "evaluate",
                "run",
                "batch",
                "local",
                "bench",
                "bench-engine",
                "soak",
                "activation-ranges",
                "api")) {
            assertThat(usage).as(command).containsPattern("(?m)^  " + command + " ");
            assertThat(LocalMain.COMMANDS).containsKey(command);
        }

        // The HTTP API runs from this jar too: its command line, with its own classes and dependencies (bcrypt).
        Process hash = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-jar",
                        LOCAL_JAR.toString(),
                        "api",
                        "hash-password")
                .redirectErrorStream(true)
                .start();
        hash.getOutputStream().write("demo-password\n".getBytes(StandardCharsets.UTF_8));
        hash.getOutputStream().close();
        String hashed = new String(hash.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(hash.waitFor(2, TimeUnit.MINUTES)).isTrue();
        assertThat(hash.exitValue()).as(hashed).isZero();
        assertThat(hashed).containsPattern("(?m)^\\$2[aby]\\$\\d\\d\\$[./A-Za-z0-9]{53}$");
    }

    private static List<String> classes(Path jar) throws IOException {
        assertThat(jar).as("packaged jar (mvn package)").isRegularFile();
        try (JarFile file = new JarFile(jar.toFile())) {
            return file.stream()
                    .map(e -> e.getName())
                    .filter(n -> n.endsWith(".class"))
                    .toList();
        }
    }

    private static String mainClass(Path jar) throws IOException {
        try (JarFile file = new JarFile(jar.toFile())) {
            return file.getManifest().getMainAttributes().getValue("Main-Class");
        }
    }

    /** Where a class was loaded from: a module's classes directory or its jar (failsafe runs after package). */
    private static Path location(Class<?> type) {
        try {
            return Path.of(
                    type.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The classes of one module, from its classes directory or its jar. */
    private static List<String> compiledClasses(Path location) throws IOException {
        if (!Files.isDirectory(location)) {
            return classes(location);
        }
        try (Stream<Path> files = Files.walk(location)) {
            return files.filter(f -> f.toString().endsWith(".class"))
                    .map(f -> location.relativize(f).toString().replace('\\', '/'))
                    .toList();
        }
    }
}
