package dev.biometry.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.biometry.api.InputParser;
import dev.biometry.api.Json;
import dev.biometry.api.RequestEnvelope;
import dev.biometry.api.SourceRef;
import dev.biometry.testing.TestData;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replays the call shapes of public Oz clients (spec §10: the official iOS SDK's request manager as the reference,
 * a React Native module, a Node proxy, an Angular web client) against the API on its embedded H2 default store,
 * and checks what each client reads back, and what the API hands the job on Kafka. No job runs here: analyses stay
 * PROCESSING (the end-to-end test covers their results).
 */
@org.junit.jupiter.api.Tag("integration")
class OzClientContractTest {

    @TempDir
    static Path work;

    static KafkaOnlyStack stack;
    static byte[] photo;

    @BeforeAll
    static void start() throws Exception {
        stack = new KafkaOnlyStack(
                work, "jdbc:h2:file:" + work.resolve("db") + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE", "sa", Map.of());
        photo = TestData.read(TestData.samplePhoto(2));
    }

    @AfterAll
    static void stop() throws Exception {
        stack.close();
    }

    /** The iOS SDK sends every JSON body as application/x-www-form-urlencoded, with trailing slashes. */
    static final String FORM = "application/x-www-form-urlencoded";

    @Test
    void iosSdkFlow() throws Exception {
        OzClient ios = new OzClient(stack.api.port());
        OzClient.Answer auth = ios.postJson(
                "/api/authorize/auth/",
                "{\"credentials\":{\"email\":\"" + Auth.DEMO_EMAIL + "\",\"password\":\"" + Auth.DEMO_PASSWORD + "\"}}",
                FORM);
        assertThat(auth.status()).as(auth.text()).isEqualTo(200);
        assertThat(auth.json().get("access_token").asText()).hasSize(64);
        assertThat(auth.json().get("expire_token").asText()).hasSize(64);
        assertThat(auth.json().get("expire_date").asDouble())
                .isBetween(
                        System.currentTimeMillis() / 1000.0 + 14 * 60, System.currentTimeMillis() / 1000.0 + 16 * 60);
        assertThat(auth.json().at("/user/email").asText()).isEqualTo(Auth.DEMO_EMAIL);
        ios.token = auth.json().get("access_token").asText();

        // Upload: any part names, tags keyed by them, device info in folder:meta_data.phone_info.
        OzClient.Answer folder = ios.postMultipart(
                "/api/folders/",
                new OzClient.Multipart()
                        .file("photo_document_front", "document.jpg", "image/jpeg", photo)
                        .file("media_key1", "selfie.jpg", "application/octet-stream", photo)
                        .field(
                                "payload",
                                "{\"media:tags\":{\"photo_document_front\":[\"photo_id\",\"photo_id_front\"],"
                                        + "\"media_key1\":[\"photo_selfie\"]},\"folder:meta_data\":{\"phone_info\":{\"manufacturer\":"
                                        + "\"Apple\",\"model\":\"iPhone\",\"os_version\":\"17.0\",\"version_liveness_sdk\":\"8.0\"}},"
                                        + "\"unknown:field\":1}"));
        assertThat(folder.status()).as(folder.text()).isEqualTo(201);
        String folderId = folder.json().get("folder_id").asText();
        assertThat(folder.json().get("media")).hasSize(2);
        for (JsonNode m : folder.json().get("media")) {
            assertThat(m.get("media_type").asText()).isEqualTo("IMAGE_FOLDER");
            assertThat(m.get("media_id").asText()).isNotBlank();
        }
        assertThat(folder.at("/media/0/tags").toString()).isEqualTo("[\"photo_id\",\"photo_id_front\"]");
        assertThat(folder.at("/meta_data/phone_info/model").asText()).isEqualTo("iPhone");

        // Start: uppercase type, explicit source_media, JSON as a form body; the SDK reads [0].analyse_id.
        String media0 = folder.at("/media/0/media_id").asText();
        String media1 = folder.at("/media/1/media_id").asText();
        OzClient.Answer started = ios.postJson(
                "/api/folders/" + folderId + "/analyses/",
                "{\"analyses\":[{\"type\":\"BIOMETRY\",\"source_media\":[\"" + media0 + "\",\"" + media1 + "\"]}]}",
                FORM);
        assertThat(started.status()).as(started.text()).isEqualTo(201);
        String analyseId = started.at("/0/analyse_id").asText();
        assertThat(started.at("/0/resolution").asText()).isEqualTo("PROCESSING");

        // Polling shapes: GET /api/analyses/{id} (resolution, resolution_status, state) and the folder with analyses.
        OzClient.Answer analysis = ios.get("/api/analyses/" + analyseId);
        assertThat(analysis.json().get("resolution").asText()).isEqualTo("PROCESSING");
        assertThat(analysis.json().get("resolution_status").asText()).isEqualTo("PROCESSING");
        assertThat(analysis.json().get("state").asText()).isEqualTo("PROCESSING");
        assertThat(analysis.json().get("type").asText()).isEqualTo("BIOMETRY");
        OzClient.Answer polled = ios.get("/api/folders/" + folderId + "/?with_analyses=true");
        assertThat(polled.json().get("resolution_status").asText()).isEqualTo("PROCESSING");
        assertThat(polled.at("/analyses/0/type").asText()).isEqualTo("BIOMETRY");
        assertThat(polled.at("/analyses/0/resolution_status").asText()).isEqualTo("PROCESSING");
        assertThat(polled.json().at("/analyses/0").has("results_data")).isFalse();

        // What the job receives: one self-contained request its own parser accepts.
        RequestEnvelope request = lastRequest(folderId);
        assertThat(request.analyses()).hasSize(1);
        assertThat(request.analyses()[0].analyseId()).isEqualTo(analyseId);
        assertThat(request.analyses()[0].sourceMedia()).containsExactly(media0, media1);
        assertThat(request.media()).extracting(m -> m.mediaId()).containsExactly(media0, media1);
        assertThat(request.media()[0].hasTag("photo_id_front")).isTrue();
        assertThat(request.media()[0].uri()).startsWith("file:/");
    }

    @Test
    void reactNativeModuleFlow() throws Exception {
        OzClient rn = new OzClient(stack.api.port());
        rn.login(Auth.DEMO_EMAIL, Auth.DEMO_PASSWORD);
        // A folder first without payload, then media added to it: the answer is an array.
        OzClient.Answer folder = rn.postMultipart(
                "/api/folders", new OzClient.Multipart().file("video_0", "selfie.jpg", "image/jpeg", photo));
        assertThat(folder.status()).as(folder.text()).isEqualTo(201);
        String folderId = folder.json().get("folder_id").asText();
        assertThat(folder.at("/media/0/tags")).isEmpty();
        OzClient.Answer media = rn.postMultipart(
                "/api/folders/" + folderId + "/media/",
                new OzClient.Multipart()
                        .file("photo1", "id.jpg", "image/jpeg", photo)
                        .field(
                                "payload",
                                "{\"media:tags\": {\"photo1\": [\"photo_id\", \"photo_id_front\"]},"
                                        + " \"media:meta_data\": {\"photo1\": {\"source\": \"camera\"}}}"));
        assertThat(media.status()).as(media.text()).isEqualTo(201);
        assertThat(media.json().isArray()).isTrue();
        assertThat(media.at("/0/media_id").asText()).isNotBlank();
        assertThat(media.at("/0/meta_data/source").asText()).isEqualTo("camera");
        assertThat(media.at("/0/original_url").asText()).endsWith("/file");

        // threshold_min / threshold_max: the upper bound is the threshold.
        OzClient.Answer started = rn.postJson(
                "/api/folders/" + folderId + "/analyses",
                "{\"analyses\": [{\"type\": \"biometry\", \"params\": {\"threshold_min\": 0.75,"
                        + " \"threshold_max\": 0.9}}]}");
        assertThat(started.status()).as(started.text()).isEqualTo(201);
        JsonNode last = started.json().get(started.json().size() - 1);
        assertThat(last.get("resolution").asText()).isEqualTo("PROCESSING");
        assertThat(last.at("/params/threshold").asDouble()).isEqualTo(0.9);
        assertThat(last.at("/params/threshold_min").asDouble()).isEqualTo(0.75);
        RequestEnvelope request = lastRequest(folderId);
        assertThat(request.analyses()[0].threshold()).isEqualTo(0.9);
        assertThat(request.analyses()[0].thresholdMin()).isEqualTo(0.75);
        // source_media omitted: every media of the folder.
        assertThat(request.analyses()[0].sourceMedia()).hasSize(2);

        // The stored original is served to its owner.
        OzClient.Answer original = rn.get(media.at("/0/original_url").asText().replace(rn.base(), ""));
        assertThat(original.status()).isEqualTo(200);
        assertThat(original.text().length()).isPositive();
    }

    @Test
    void nodeProxyFlow() throws Exception {
        OzClient proxy = new OzClient(stack.api.port());
        JsonNode session = proxy.login(Auth.DEMO_EMAIL, Auth.DEMO_PASSWORD).json();
        // Refresh: expire_token in the body, the access token in the header; the old pair stops working.
        OzClient.Answer refreshed = proxy.postJson(
                "/api/authorize/refresh/",
                "{\"expire_token\": \"" + session.get("expire_token").asText() + "\"}");
        assertThat(refreshed.status()).as(refreshed.text()).isEqualTo(200);
        String newToken = refreshed.json().get("access_token").asText();
        assertThat(newToken).isNotEqualTo(session.get("access_token").asText());
        assertThat(proxy.get("/api/folders/").status()).isEqualTo(401);
        proxy.token = newToken;
        assertThat(proxy.get("/api/folders/").status()).isEqualTo(200);
        assertThat(proxy.postJson("/api/authorize/refresh/", "{}").status()).isEqualTo(400);
        assertThat(proxy.postJson(
                                "/api/authorize/refresh/",
                                "{\"expire_token\": \""
                                        + session.get("expire_token").asText() + "\"}")
                        .json()
                        .get("error_code")
                        .asInt())
                .isEqualTo(7);

        String tx = "tx-" + System.nanoTime();
        long createdAfter = System.currentTimeMillis() / 1000 - 5;
        String folderId = proxy.postMultipart(
                        "/api/folders/",
                        new OzClient.Multipart()
                                .file("media_key1", "a.jpg", "image/jpeg", photo)
                                .field("payload", "{\"folder:meta_data\": {\"transaction_id\": \"" + tx + "\"}}"))
                .json()
                .get("folder_id")
                .asText();
        OzClient.Answer found = proxy.get("/api/folders/?meta_data=transaction_id==" + tx
                + "&with_analyses=true&time_created.min=" + createdAfter);
        assertThat(found.status()).as(found.text()).isEqualTo(200);
        assertThat(found.json().get("total_count").asLong()).isEqualTo(1);
        assertThat(found.json().get("offset").asInt()).isZero();
        assertThat(found.json().get("limit").asInt()).isEqualTo(100);
        assertThat(found.at("/items/0/folder_id").asText()).isEqualTo(folderId);
        assertThat(found.at("/items/0/resolution_status").asText()).isEqualTo("INITIAL");
        assertThat(found.at("/items/0/time_created").isNumber()).isTrue();
    }

    @Test
    void angularClientReadsAnalysisFields() throws Exception {
        OzClient web = new OzClient(stack.api.port());
        web.login(Auth.DEMO_EMAIL, Auth.DEMO_PASSWORD);
        String folderId = web.postMultipart(
                        "/api/folders/",
                        new OzClient.Multipart()
                                .file("photo1", "a.jpg", "image/jpeg", photo)
                                .file("photo2", "b.jpg", "image/jpeg", photo))
                .json()
                .get("folder_id")
                .asText();
        OzClient.Answer started = web.postJson(
                "/api/folders/" + folderId + "/analyses/",
                "{\"analyses\": [{\"type\": \"biometry\", \"analysis_id\": \"client-chosen\"}]}");
        String analyseId = started.at("/0/analyse_id").asText();
        // Ids are made by the server.
        assertThat(analyseId).isNotEqualTo("client-chosen").hasSize(36);
        JsonNode analysis = web.get("/api/analyses/" + analyseId + "/").json();
        assertThat(analysis.get("source_media")).hasSize(2);
        assertThat(analysis.at("/source_media/0/original_url").asText()).contains("/api/media/");
        assertThat(analysis.get("time_created").isNumber()).isTrue();
        assertThat(analysis.get("folder_id").asText()).isEqualTo(folderId);
        assertThat(web.get("/api/folders/" + folderId + "/analyses/").json()).hasSize(1);
    }

    @Test
    void openApiDescribesEveryRoute() throws Exception {
        JsonNode spec = new OzClient(stack.api.port()).get("/api/openapi.json").json();
        assertThat(spec.get("openapi").asText()).startsWith("3.");
        java.util.Set<String> documented = new java.util.TreeSet<>();
        spec.get("paths")
                .fields()
                .forEachRemaining(p -> p.getValue()
                        .fieldNames()
                        .forEachRemaining(method ->
                                documented.add(method.toUpperCase(java.util.Locale.ROOT) + " " + p.getKey())));
        assertThat(documented).containsExactlyInAnyOrderElementsOf(stack.routes);
        assertThat(stack.routes).containsExactlyInAnyOrderElementsOf(ApiServer.ROUTES);
    }

    /** The last message on the requests topic for a folder, parsed by the job's own parser. */
    static RequestEnvelope lastRequest(String folderId) {
        List<ConsumerRecord<String, String>> records = stack.readAll("biometry.requests").stream()
                .filter(r -> folderId.equals(r.key()))
                .toList();
        assertThat(records).isNotEmpty();
        var parsed = InputParser.parseRequest(
                records.get(records.size() - 1).value().getBytes(StandardCharsets.UTF_8),
                new SourceRef("test", 0, 0),
                System.currentTimeMillis(),
                () -> "generated");
        assertThat(parsed.isOk()).as(String.valueOf(parsed)).isTrue();
        return parsed.value();
    }

    static JsonNode json(String text) throws Exception {
        return Json.mapper().readTree(text);
    }
}
