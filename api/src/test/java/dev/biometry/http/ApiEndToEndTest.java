package dev.biometry.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.biometry.api.Json;
import dev.biometry.face.FaceEngine;
import dev.biometry.face.FaceEngineConfig;
import dev.biometry.testing.JobRun;
import dev.biometry.testing.TestData;
import dev.biometry.testing.TestImages;
import dev.biometry.testing.WebhookReceiver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Oz flow end to end over real HTTP: the API on a real PostgreSQL server, in-process Kafka, and the biometry
 * job on a 2-slot MiniCluster with the real face models. Each test uses its own folders.
 */
@org.junit.jupiter.api.Tag("integration")
class ApiEndToEndTest {

    static final Duration TIMEOUT = Duration.ofSeconds(180);

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER =
            new MiniClusterExtension(() -> new MiniClusterResourceConfiguration.Builder()
                    .setNumberTaskManagers(1)
                    .setNumberSlotsPerTaskManager(2)
                    .build());

    @TempDir
    static Path work;

    static PostgresServer postgres;
    static JobRun run;
    static ApiServer api;
    static OzClient client;
    static byte[] alice;
    static byte[] aliceMirrored;
    static byte[] bob;

    @BeforeAll
    static void start() throws Exception {
        postgres = PostgresServer.start();
        Path media = Files.createDirectories(work.resolve("media"));
        run = new JobRun(Map.of(
                "media-roots",
                media.toString(),
                "webhook-allow-http",
                "true",
                "webhook-allow-hosts",
                "127.0.0.1",
                "webhook-allow-private",
                "true"));
        alice = TestData.read(TestData.samplePhoto(3));
        bob = TestData.read(TestData.samplePhoto(1));
        try (FaceEngine engine = new FaceEngine(FaceEngineConfig.defaults(TestData.modelsDir()))) {
            aliceMirrored = TestImages.mirroredFaceCrop(engine, TestData.samplePhoto(3));
        }
        Map<String, String> options = new HashMap<>();
        options.put("bootstrap-servers", run.config().bootstrapServers());
        options.put("port", "0");
        options.put("db-url", postgres.jdbcUrl());
        options.put("db-user", "test");
        options.put("media-dir", media.toString());
        options.put("demo-user", "true");
        api = ApiServer.start(ApiConfig.of(options));
        client = new OzClient(api.port());
        assertThat(client.login(Auth.DEMO_EMAIL, Auth.DEMO_PASSWORD).status()).isEqualTo(200);
    }

    @BeforeEach
    void startJob() throws Exception {
        run.startJob();
    }

    @AfterAll
    static void stop() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {api, run, postgres}) {
            if (c != null) {
                c.close();
            }
        }
    }

    static OzClient.Multipart twoPhotos(byte[] selfie, byte[] idFront, String extraPayload) {
        return new OzClient.Multipart()
                .file("photo_selfie_1", "selfie.jpg", "image/jpeg", selfie)
                .file("photo_id_1", "passport.jpg", "image/jpeg", idFront)
                .field(
                        "payload",
                        "{\"media:tags\": {\"photo_selfie_1\": [\"photo_selfie\"],"
                                + " \"photo_id_1\": [\"photo_id\", \"photo_id_front\"]},"
                                + " \"folder:meta_data\": {\"transaction_id\": \"" + JobRun.newId() + "\"}"
                                + extraPayload
                                + "}");
    }

    /** The seed's flow: authenticate, folder with two photos, start BIOMETRY, poll, read the verdict. */
    static JsonNode multiRequestFlow(byte[] selfie, byte[] idFront) throws Exception {
        OzClient.Answer folder = client.postMultipart("/api/folders/", twoPhotos(selfie, idFront, ""));
        assertThat(folder.status()).as(folder.text()).isEqualTo(201);
        String folderId = folder.json().get("folder_id").asText();
        assertThat(folder.json().get("media")).hasSize(2);
        assertThat(folder.at("/media/0/media_type").asText()).isEqualTo("IMAGE_FOLDER");
        assertThat(folder.at("/media/1/tags").toString()).isEqualTo("[\"photo_id\",\"photo_id_front\"]");
        assertThat(folder.at("/media/0/original_url").asText()).startsWith(client.base() + "/api/media/");

        OzClient.Answer started = client.postJson(
                "/api/folders/" + folderId + "/analyses/", "{\"analyses\": [{\"type\": \"biometry\"}]}");
        assertThat(started.status()).as(started.text()).isEqualTo(201);
        assertThat(started.json().isArray()).isTrue();
        String analyseId = started.at("/0/analyse_id").asText();
        assertThat(started.at("/0/resolution").asText()).isEqualTo("PROCESSING");
        assertThat(started.at("/0/source_media")).hasSize(2);

        JsonNode analysis = client.pollUntilDone("/api/analyses/" + analyseId, "/resolution_status", TIMEOUT)
                .json();
        assertThat(analysis.get("analyse_id").asText()).isEqualTo(analyseId);
        assertThat(analysis.get("folder_id").asText()).isEqualTo(folderId);
        assertThat(analysis.get("type").asText()).isEqualTo("BIOMETRY");
        assertThat(analysis.get("state").asText()).isEqualTo("FINISHED");
        assertThat(analysis.get("resolution").asText())
                .isEqualTo(analysis.get("resolution_status").asText());
        assertThat(analysis.get("results_media")).hasSize(2);
        assertThat(analysis.at("/source_media/0/original_name").asText()).isEqualTo("selfie.jpg");

        JsonNode folderView = client.pollUntilDone(
                        "/api/folders/" + folderId + "?with_analyses=true", "/resolution_status", TIMEOUT)
                .json();
        assertThat(folderView.get("resolution_status").asText()).isEqualTo("FINISHED");
        assertThat(folderView.at("/analyses/0/type").asText()).isEqualTo("BIOMETRY");
        assertThat(folderView.at("/analyses/0/resolution_status").asText())
                .isEqualTo(analysis.get("resolution_status").asText());
        assertThat(folderView.at("/analyses/0/results_data/min_confidence").asDouble())
                .isEqualTo(analysis.at("/results_data/min_confidence").asDouble());
        return analysis;
    }

    @Test
    void samePersonSucceeds() throws Exception {
        JsonNode analysis = multiRequestFlow(alice, aliceMirrored);
        assertThat(analysis.get("resolution_status").asText()).isEqualTo("SUCCESS");
        for (JsonNode m : analysis.get("results_media")) {
            assertThat(m.at("/results_data/min_confidence").asDouble()).isGreaterThanOrEqualTo(0.85);
        }
    }

    @Test
    void twoDifferentPeopleAreDeclined() throws Exception {
        JsonNode analysis = multiRequestFlow(alice, bob);
        assertThat(analysis.get("resolution_status").asText()).isEqualTo("DECLINED");
        for (JsonNode m : analysis.get("results_media")) {
            assertThat(m.at("/results_data/min_confidence").asDouble()).isLessThan(0.85);
        }
    }

    @Test
    void singleRequestModeAnswersWithTheFinishedAnalyses() throws Exception {
        OzClient.Answer answer = client.postMultipart(
                "/api/folders/",
                twoPhotos(
                        alice,
                        aliceMirrored,
                        ", \"analyses\": [{\"type\": \"biometry\", \"meta_data\": {\"case\": \"single\"}}]"));
        assertThat(answer.status()).as(answer.text()).isEqualTo(201);
        JsonNode folder = answer.json();
        assertThat(folder.get("resolution_status").asText()).isEqualTo("FINISHED");
        assertThat(folder.get("analyses")).hasSize(1);
        assertThat(folder.at("/analyses/0/state").asText()).isEqualTo("FINISHED");
        assertThat(folder.at("/analyses/0/resolution_status").asText()).isEqualTo("SUCCESS");
        assertThat(folder.at("/analyses/0/meta_data/case").asText()).isEqualTo("single");
        assertThat(folder.at("/analyses/0/results_data/min_confidence").asDouble())
                .isGreaterThanOrEqualTo(0.85);

        // Stored like any folder: polling reads the same verdict.
        String analyseId = folder.at("/analyses/0/analyse_id").asText();
        JsonNode polled = client.pollUntilDone("/api/analyses/" + analyseId, "/resolution_status", TIMEOUT)
                .json();
        assertThat(polled.get("resolution_status").asText()).isEqualTo("SUCCESS");
    }

    @Test
    void instantModeAnswersAndStoresNothing() throws Exception {
        long foldersBefore = count("folders");
        long mediaBefore = count("media");
        long analysesBefore = count("analyses");
        OzClient.Answer answer = client.postMultipart(
                "/api/instant/folders/", twoPhotos(alice, bob, ", \"analyses\": [{\"type\": \"BIOMETRY\"}]"));
        assertThat(answer.status()).as(answer.text()).isEqualTo(200);
        JsonNode folder = answer.json();
        assertThat(folder.get("media")).hasSize(2);
        assertThat(folder.at("/analyses/0/state").asText()).isEqualTo("FINISHED");
        assertThat(folder.at("/analyses/0/resolution_status").asText()).isEqualTo("DECLINED");
        assertThat(folder.at("/analyses/0/results_data/min_confidence").isNumber())
                .isTrue();

        String folderId = folder.get("folder_id").asText();
        assertThat(client.get("/api/folders/" + folderId).status()).isEqualTo(404);
        assertThat(client.get("/api/analyses/"
                                + folder.at("/analyses/0/analyse_id").asText())
                        .status())
                .isEqualTo(404);
        assertThat(count("folders")).isEqualTo(foldersBefore);
        assertThat(count("media")).isEqualTo(mediaBefore);
        assertThat(count("analyses")).isEqualTo(analysesBefore);
        try (Stream<Path> files = Files.walk(work.resolve("media"))) {
            assertThat(files.filter(p -> p.toString().contains(folderId))).isEmpty();
        }
    }

    @Test
    void webhookReceivesTheFinalAnalysis() throws Exception {
        try (WebhookReceiver receiver = WebhookReceiver.answering(200)) {
            OzClient.Answer folder = client.postMultipart("/api/folders", twoPhotos(alice, aliceMirrored, ""));
            String folderId = folder.json().get("folder_id").asText();
            OzClient.Answer started = client.postJson(
                    "/api/folders/" + folderId + "/analyses",
                    "{\"analyses\": [{\"type\": \"biometry\"}], \"resolution_endpoint\": \""
                            + receiver.url("127.0.0.1", "/hooks/oz") + "\"}");
            assertThat(started.status()).as(started.text()).isEqualTo(201);
            String analyseId = started.at("/0/analyse_id").asText();
            List<WebhookReceiver.Request> hooks = receiver.await("/hooks/oz", l -> !l.isEmpty(), TIMEOUT);
            JsonNode body = Json.mapper().readTree(hooks.get(0).body());
            assertThat(body.get("analyse_id").asText()).isEqualTo(analyseId);
            assertThat(body.get("folder_id").asText()).isEqualTo(folderId);
            assertThat(body.get("resolution_status").asText()).isEqualTo("SUCCESS");
            assertThat(hooks.get(0).header("Idempotency-Key")).isEqualTo(analyseId + ":FINISHED");
        }
    }

    @Test
    void foldersAreListedWithOzFilters() throws Exception {
        long startSeconds = System.currentTimeMillis() / 1000 - 1;
        String tx = JobRun.newId();
        OzClient.Multipart upload = new OzClient.Multipart()
                .file("media_key1", "a.jpg", "application/octet-stream", alice)
                .field("payload", "{\"folder:meta_data\": {\"transaction_id\": \"" + tx + "\"}}");
        String folderId = client.postMultipart("/api/folders/", upload)
                .json()
                .get("folder_id")
                .asText();

        OzClient.Answer list = client.get("/api/folders/?meta_data=transaction_id==" + tx
                + "&with_analyses=true&time_created.min=" + startSeconds);
        assertThat(list.status()).as(list.text()).isEqualTo(200);
        assertThat(list.json().get("total_count").asLong()).isEqualTo(1);
        assertThat(list.at("/items/0/folder_id").asText()).isEqualTo(folderId);
        assertThat(list.at("/items/0/analyses")).isEmpty();
        // Milliseconds work as well as seconds; a bound after the folder excludes it.
        assertThat(client.get("/api/folders?meta_data=transaction_id==" + tx + "&time_created.min="
                                + startSeconds * 1000)
                        .json()
                        .get("total_count")
                        .asLong())
                .isEqualTo(1);
        assertThat(client.get("/api/folders?meta_data=transaction_id==" + tx + "&time_created.min="
                                + (System.currentTimeMillis() + 60_000))
                        .json()
                        .get("total_count")
                        .asLong())
                .isZero();
        assertThat(client.get("/api/folders?meta_data=transaction_id==" + tx + "&resolution_status=initial")
                        .json()
                        .get("total_count")
                        .asLong())
                .isEqualTo(1);
        assertThat(client.get("/api/folders?meta_data=transaction_id==" + tx + "&resolution_status=FINISHED")
                        .json()
                        .get("total_count")
                        .asLong())
                .isZero();
    }

    /**
     * Load: 200 concurrent pollers on {@code GET /api/analyses/{id}} (one shared HTTP client, one connection each)
     * for 20 s while new analyses start and finish; prints requests/s and latency percentiles (README figures).
     * Asserts only that every answer is a 200 with the analysis.
     */
    @Test
    void twoHundredPollersWhileAnalysesRun() throws Exception {
        String folderId = client.postMultipart("/api/folders/", twoPhotos(alice, bob, ""))
                .json()
                .get("folder_id")
                .asText();
        List<String> ids = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.function.Supplier<String> startOne = () -> {
            try {
                OzClient.Answer a = client.postJson(
                        "/api/folders/" + folderId + "/analyses/", "{\"analyses\": [{\"type\": \"biometry\"}]}");
                assertThat(a.status()).as(a.text()).isEqualTo(201);
                return a.at("/0/analyse_id").asText();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
        for (int i = 0; i < 4; i++) {
            ids.add(startOne.get());
        }
        int pollers = 200;
        Duration window = Duration.ofSeconds(20);
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicLong errors = new java.util.concurrent.atomic.AtomicLong();
        java.util.concurrent.atomic.AtomicInteger started = new java.util.concurrent.atomic.AtomicInteger(4);
        Thread feeder = new Thread(() -> {
            while (!stop.get()) {
                ids.add(startOne.get());
                started.incrementAndGet();
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        java.net.http.HttpClient http = java.net.http.HttpClient.newBuilder()
                .version(java.net.http.HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10))
                .build();
        List<long[]> latencies = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.concurrent.CountDownLatch ready = new java.util.concurrent.CountDownLatch(pollers);
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        List<Thread> threads = new java.util.ArrayList<>();
        java.util.concurrent.atomic.AtomicLong startNanos = new java.util.concurrent.atomic.AtomicLong();
        for (int t = 0; t < pollers; t++) {
            int seed = t;
            Thread thread = new Thread(
                    () -> {
                        long[] mine = new long[200_000];
                        int n = 0;
                        java.util.Random random = new java.util.Random(seed);
                        ready.countDown();
                        try {
                            go.await();
                            long end = startNanos.get() + window.toNanos();
                            while (System.nanoTime() < end && n < mine.length) {
                                String id = ids.get(random.nextInt(ids.size()));
                                java.net.http.HttpRequest request = java.net.http.HttpRequest.newBuilder(
                                                java.net.URI.create(client.base() + "/api/analyses/" + id))
                                        .header("X-Forensic-Access-Token", client.token)
                                        .timeout(Duration.ofSeconds(60))
                                        .GET()
                                        .build();
                                long t0 = System.nanoTime();
                                try {
                                    var response =
                                            http.send(request, java.net.http.HttpResponse.BodyHandlers.ofString());
                                    if (response.statusCode() != 200
                                            || !response.body().contains(id)) {
                                        errors.incrementAndGet();
                                    }
                                } catch (java.io.IOException e) {
                                    errors.incrementAndGet();
                                }
                                mine[n++] = System.nanoTime() - t0;
                            }
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        latencies.add(java.util.Arrays.copyOf(mine, n));
                    },
                    "poller-" + t);
            threads.add(thread);
            thread.start();
        }
        ready.await();
        long finishedBefore = ids.stream().filter(ApiEndToEndTest::finished).count();
        startNanos.set(System.nanoTime());
        go.countDown();
        feeder.start();
        for (Thread thread : threads) {
            thread.join();
        }
        double seconds = (System.nanoTime() - startNanos.get()) / 1e9;
        stop.set(true);
        feeder.join();
        long[] all = latencies.stream()
                .flatMapToLong(java.util.Arrays::stream)
                .sorted()
                .toArray();
        long finishedAfter = ids.stream().filter(ApiEndToEndTest::finished).count();
        System.out.printf(
                java.util.Locale.ROOT,
                "LOAD: %d pollers on GET /api/analyses/{id}, %.1f s, %d requests: %.0f requests/s, p50 %.1f ms,"
                        + " p99 %.1f ms, max %.1f ms, errors %d; %d analyses started, %d finished during the window;"
                        + " %d cores, PostgreSQL%n",
                pollers,
                seconds,
                all.length,
                all.length / seconds,
                all[all.length / 2] / 1e6,
                all[(int) (all.length * 0.99)] / 1e6,
                all[all.length - 1] / 1e6,
                errors.get(),
                started.get(),
                finishedAfter - finishedBefore,
                Runtime.getRuntime().availableProcessors());
        assertThat(errors.get()).isZero();
        assertThat(all.length).isGreaterThan(pollers);
    }

    private static boolean finished(String analyseId) {
        return api.store()
                .analysis(analyseId)
                .map(a -> !a.state().equals("PROCESSING"))
                .orElse(false);
    }

    static long count(String table) throws Exception {
        try (Connection c = api.store().dataSource().getConnection();
                ResultSet rs = c.createStatement().executeQuery("SELECT count(*) FROM " + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
