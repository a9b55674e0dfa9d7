package dev.biometry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.biometry.api.Json;
import dev.biometry.testing.JobRun;
import dev.biometry.testing.TestData;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job submitted as a user does through Flink's REST API (what the dashboard's "Submit New Job" calls):
 * {@code POST /jars/upload}, then {@code POST /jars/{id}/run}. There the program's {@code main} runs inside the
 * JobManager's JVM (here: this test's JVM), so a {@code System.exit} in it would end this test run. A submission
 * whose topics do not exist is refused with a message naming them, and the cluster and the running job go on.
 */
@org.junit.jupiter.api.Tag("integration")
class RestSubmissionTest {

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void theJarRunsThroughTheRestApiAndAFailedSubmissionLeavesTheJobManagerRunning(@TempDir Path dir) throws Exception {
        Path photos = Files.createDirectories(dir.resolve("photos"));
        Files.copy(TestData.samplePhoto(1), photos.resolve("a.jpg"));
        Files.copy(TestData.samplePhoto(2), photos.resolve("b.jpg"));
        Path jar = jobJar(dir.resolve("biometry-job.jar"));
        Configuration conf = new Configuration();
        conf.set(RestOptions.BIND_PORT, "0");
        try (JobRun run = new JobRun(Map.of("parallelism", "1", "media-roots", photos.toString()));
                MiniCluster cluster = new MiniCluster(new MiniClusterConfiguration.Builder()
                        .setConfiguration(conf)
                        .setNumTaskManagers(1)
                        .setNumSlotsPerTaskManager(2)
                        .build())) {
            cluster.start();
            URI rest = cluster.getRestAddress().get();
            awaitLeader(rest);
            String jarId = upload(rest, jar);
            List<String> args = new ArrayList<>(List.of(
                    "run",
                    "--bootstrap-servers",
                    run.config().bootstrapServers(),
                    "--parallelism",
                    "1",
                    "--checkpoint-interval",
                    "1s",
                    "--models",
                    TestData.modelsDir().toString(),
                    "--media-roots",
                    photos.toString(),
                    "--checkpoint-dir",
                    dir.resolve("checkpoints").toUri().toString()));

            HttpResponse<String> started = runJar(rest, jarId, args);
            assertThat(started.statusCode()).as(started.body()).isEqualTo(200);
            String jobId = Json.mapper().readTree(started.body()).get("jobid").asText();
            String first = run.request(
                    "f-1",
                    null,
                    JobRun.media("f-1", "m-1", photos.resolve("a.jpg").toUri().toString(), "IMAGE_FOLDER"),
                    JobRun.media("f-1", "m-2", photos.resolve("b.jpg").toUri().toString(), "IMAGE_FOLDER"));
            assertThat(run.finalResult(first).get("state").asText()).isEqualTo("FINISHED");

            List<String> missingTopic = new ArrayList<>(args);
            missingTopic.addAll(List.of("--results-topic", "no.such.results", "--transactional-id-prefix", "other"));
            HttpResponse<String> refused = runJar(rest, jarId, missingTopic);
            assertThat(refused.statusCode()).isGreaterThanOrEqualTo(400);
            assertThat(refused.body())
                    .contains("Kafka topics missing")
                    .contains("no.such.results")
                    .doesNotContain("biometry.requests,");

            // The JobManager still answers and the first job still runs and still produces results.
            JsonNode job = Json.mapper().readTree(get(rest, "/jobs/" + jobId));
            assertThat(job.get("state").asText()).isEqualTo("RUNNING");
            String second = run.request(
                    "f-2",
                    null,
                    JobRun.media("f-2", "m-3", photos.resolve("b.jpg").toUri().toString(), "IMAGE_FOLDER"),
                    JobRun.media("f-2", "m-4", photos.resolve("a.jpg").toUri().toString(), "IMAGE_FOLDER"));
            assertThat(run.finalResult(second).get("state").asText()).isEqualTo("FINISHED");
            assertThat(Json.mapper().readTree(get(rest, "/jobs/overview")).get("jobs"))
                    .hasSize(1);
        }
    }

    @Test
    void outsideFlinkMainKnowsItOwnsTheJvm() {
        assertThat(Main.calledByFlink()).isFalse();
    }

    /** The job's compiled classes as a jar with Main as its entry; their libraries come from the test class path. */
    private static Path jobJar(Path jar) throws IOException {
        Path classes = Path.of(
                Main.class.getProtectionDomain().getCodeSource().getLocation().getPath());
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, Main.class.getName());
        try (OutputStream file = Files.newOutputStream(jar);
                JarOutputStream out = new JarOutputStream(file, manifest);
                Stream<Path> files = Files.walk(classes)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                out.putNextEntry(new JarEntry(classes.relativize(f).toString().replace('\\', '/')));
                Files.copy(f, out);
                out.closeEntry();
            }
        }
        return jar;
    }

    /**
     * Waits until the REST endpoint serves requests: right after start it answers 503 "ongoing leader election"
     * until the dispatcher has been elected leader.
     */
    private void awaitLeader(URI rest) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (true) {
            HttpResponse<String> r = http.send(
                    HttpRequest.newBuilder(rest.resolve("/overview")).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 200) {
                return;
            }
            assertThat(System.nanoTime())
                    .as("REST endpoint still answering %s: %s", r.statusCode(), r.body())
                    .isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    private String upload(URI rest, Path jar) throws Exception {
        String boundary = "----biometry" + System.nanoTime();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"jarfile\"; filename=\""
                        + jar.getFileName() + "\"\r\nContent-Type: application/x-java-archive\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        body.write(Files.readAllBytes(jar));
        body.write(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII));
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(rest.resolve("/jars/upload"))
                        .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                        .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray()))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        String stored = Json.mapper().readTree(r.body()).get("filename").asText();
        return Path.of(stored).getFileName().toString();
    }

    private HttpResponse<String> runJar(URI rest, String jarId, List<String> args) throws Exception {
        String body = Json.mapper().writeValueAsString(Map.of("programArgsList", args));
        return http.send(
                HttpRequest.newBuilder(rest.resolve("/jars/" + jarId + "/run"))
                        .header("Content-Type", "application/json")
                        .timeout(Duration.ofMinutes(3))
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private String get(URI rest, String path) throws Exception {
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(rest.resolve(path)).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
        return r.body();
    }
}
