package dev.biometry.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.biometry.testing.TestData;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad requests, each answered with its documented Oz error code and HTTP status (spec §6) and changing nothing:
 * no row in PostgreSQL, no file in the media store, no record on the job's input topics.
 */
@org.junit.jupiter.api.Tag("integration")
class ApiErrorsTest {

    /** --max-file-size of this test: 1 MiB. */
    static final int MAX_FILE = 1024 * 1024;

    @TempDir
    static Path work;

    static PostgresServer postgres;
    static KafkaOnlyStack stack;
    static OzClient demo;
    static OzClient other;
    static String folderId;
    static byte[] photo;

    @BeforeAll
    static void start() throws Exception {
        postgres = PostgresServer.start();
        stack = new KafkaOnlyStack(work, postgres.jdbcUrl(), "test", Map.of("max-file-size", "" + MAX_FILE));
        demo = new OzClient(stack.api.port());
        assertThat(demo.login(Auth.DEMO_EMAIL, Auth.DEMO_PASSWORD).status()).isEqualTo(200);
        other = new OzClient(stack.api.port());
        assertThat(other.login(KafkaOnlyStack.OTHER_EMAIL, KafkaOnlyStack.OTHER_PASSWORD)
                        .status())
                .isEqualTo(200);
        photo = TestData.read(TestData.samplePhoto(3));
        assertThat(photo.length).isLessThan(MAX_FILE);
        OzClient.Answer folder = demo.postMultipart(
                "/api/folders/",
                new OzClient.Multipart()
                        .file("photo1", "a.jpg", "image/jpeg", photo)
                        .field("payload", "{\"media:tags\": {\"photo1\": [\"photo_selfie\"]}}"));
        assertThat(folder.status()).isEqualTo(201);
        folderId = folder.json().get("folder_id").asText();
    }

    @AfterAll
    static void stop() throws Exception {
        stack.close();
        postgres.close();
    }

    /** Counts of every table, of the media files and of the input topics' records. */
    static List<Long> snapshot() throws Exception {
        Long[] counts = new Long[6];
        int i = 0;
        try (Connection c = stack.api.store().dataSource().getConnection()) {
            for (String table : new String[] {"folders", "media", "analyses"}) {
                try (ResultSet rs = c.createStatement().executeQuery("SELECT count(*) FROM " + table)) {
                    rs.next();
                    counts[i++] = rs.getLong(1);
                }
            }
        }
        try (Stream<Path> files = Files.walk(stack.mediaDir)) {
            counts[i++] = files.filter(Files::isRegularFile).count();
        }
        counts[i++] = stack.records("biometry.media");
        counts[i] = stack.records("biometry.requests");
        return Arrays.asList(counts);
    }

    static void expectError(int status, int code, Callable<OzClient.Answer> call) throws Exception {
        List<Long> before = snapshot();
        OzClient.Answer answer = call.call();
        assertThat(answer.status()).as(answer.text()).isEqualTo(status);
        assertThat(answer.json().get("error_code").asInt()).as(answer.text()).isEqualTo(code);
        assertThat(answer.json().get("error_message").asText()).isNotBlank();
        assertThat(answer.json().has("error_details")).isTrue();
        assertThat(snapshot()).as("nothing changed").isEqualTo(before);
    }

    static OzClient.Multipart onePhoto() {
        return new OzClient.Multipart().file("photo1", "a.jpg", "image/jpeg", photo);
    }

    @Test
    void missingTokenIs6() throws Exception {
        OzClient anonymous = new OzClient(stack.api.port());
        expectError(401, 6, () -> anonymous.get("/api/folders/" + folderId));
        expectError(401, 6, () -> anonymous.postMultipart("/api/folders/", onePhoto()));
        expectError(
                401,
                6,
                () -> anonymous.postJson(
                        "/api/folders/" + folderId + "/analyses/", "{\"analyses\": [{\"type\": \"biometry\"}]}"));
    }

    @Test
    void unknownTokenIs7AndExpiredTokenIs8() throws Exception {
        expectError(401, 7, () -> demo.withToken("not-a-token").get("/api/folders/" + folderId));
        OzClient session = new OzClient(stack.api.port());
        session.login(Auth.DEMO_EMAIL, Auth.DEMO_PASSWORD);
        assertThat(session.get("/api/folders/" + folderId).status()).isEqualTo(200);
        try (Connection c = stack.api.store().dataSource().getConnection();
                PreparedStatement ps = c.prepareStatement("UPDATE sessions SET expires_at = ? WHERE access_hash = ?")) {
            ps.setLong(1, System.currentTimeMillis() - 1000);
            ps.setString(2, Auth.digest(session.token));
            assertThat(ps.executeUpdate()).isEqualTo(1);
        }
        expectError(401, 8, () -> session.get("/api/folders/" + folderId));
        expectError(401, 8, () -> session.postMultipart("/api/folders/", onePhoto()));
        expectError(
                401,
                7,
                () -> new OzClient(stack.api.port())
                        .postJson(
                                "/api/authorize/auth/",
                                "{\"credentials\": {\"email\": \"" + Auth.DEMO_EMAIL
                                        + "\", \"password\": \"wrong\"}}"));
    }

    @Test
    void malformedJsonIs3() throws Exception {
        expectError(
                400, 3, () -> demo.postMultipart("/api/folders/", onePhoto().field("payload", "{\"media:tags\": ")));
        expectError(400, 3, () -> demo.postJson("/api/folders/" + folderId + "/analyses/", "{\"analyses\": [{"));
        expectError(400, 3, () -> demo.postJson("/api/folders/" + folderId + "/analyses/", "{}"));
        expectError(
                400,
                5,
                () -> demo.postMultipart(
                        "/api/folders/",
                        onePhoto().field("payload", "{\"media:tags\": {\"photo1\": \"photo_selfie\"}}")));
    }

    @Test
    void unknownFolderIs10() throws Exception {
        String unknown = "00000000-0000-4000-8000-00000000dead";
        expectError(404, 10, () -> demo.get("/api/folders/" + unknown));
        expectError(
                404,
                10,
                () -> demo.postJson(
                        "/api/folders/" + unknown + "/analyses/", "{\"analyses\": [{\"type\": \"biometry\"}]}"));
        expectError(404, 10, () -> demo.postMultipart("/api/folders/" + unknown + "/media/", onePhoto()));
        expectError(404, 10, () -> demo.get("/api/analyses/" + unknown));
        expectError(404, 10, () -> demo.get("/api/no-such-endpoint"));
    }

    @Test
    void anotherCompanysFolderIs9() throws Exception {
        expectError(403, 9, () -> other.get("/api/folders/" + folderId + "?with_analyses=true"));
        expectError(
                403,
                9,
                () -> other.postJson(
                        "/api/folders/" + folderId + "/analyses/", "{\"analyses\": [{\"type\": \"biometry\"}]}"));
        expectError(403, 9, () -> other.postMultipart("/api/folders/" + folderId + "/media/", onePhoto()));
        String mediaId =
                demo.get("/api/folders/" + folderId).at("/media/0/media_id").asText();
        expectError(403, 9, () -> other.get("/api/media/" + mediaId + "/file"));
        assertThat(other.get("/api/folders/").json().get("total_count").asLong())
                .isZero();
    }

    @Test
    void tooManyFilesIs4() throws Exception {
        OzClient.Multipart eleven = new OzClient.Multipart();
        for (int i = 0; i < 11; i++) {
            eleven.file("photo" + i, i + ".jpg", "image/jpeg", photo);
        }
        expectError(400, 4, () -> demo.postMultipart("/api/folders/", eleven));
        // The folder holds one media: ten more would make eleven.
        OzClient.Multipart ten = new OzClient.Multipart();
        for (int i = 0; i < 10; i++) {
            ten.file("photo" + i, i + ".jpg", "image/jpeg", photo);
        }
        expectError(400, 4, () -> demo.postMultipart("/api/folders/" + folderId + "/media/", ten));
    }

    @Test
    void oversizedFileIs4() throws Exception {
        byte[] justTooBig = jpegOfSize(MAX_FILE + 1);
        expectError(
                400,
                4,
                () -> demo.postMultipart(
                        "/api/folders/", new OzClient.Multipart().file("photo1", "big.jpg", "image/jpeg", justTooBig)));
        byte[] farTooBig = jpegOfSize(3 * MAX_FILE);
        expectError(
                400,
                4,
                () -> demo.postMultipart(
                        "/api/folders/" + folderId + "/media/",
                        new OzClient.Multipart().file("photo1", "big.jpg", "image/jpeg", farTooBig)));
    }

    @Test
    void textSentAsAPhotoIs4() throws Exception {
        byte[] text = "this is not a photo at all\n".getBytes(StandardCharsets.UTF_8);
        expectError(
                400,
                4,
                () -> demo.postMultipart(
                        "/api/folders/",
                        new OzClient.Multipart()
                                .file("photo1", "selfie.jpg", "image/jpeg", text)
                                .field("payload", "{\"media:tags\": {\"photo1\": [\"photo_selfie\"]}}")));
        expectError(
                400,
                4,
                () -> demo.postMultipart(
                        "/api/folders/" + folderId + "/media/",
                        new OzClient.Multipart().file("photo1", "selfie.jpg", "image/jpeg", text)));
    }

    @Test
    void unknownAnalysisTypeIs4() throws Exception {
        expectError(
                400,
                4,
                () -> demo.postJson(
                        "/api/folders/" + folderId + "/analyses/", "{\"analyses\": [{\"type\": \"liveness\"}]}"));
        expectError(
                400,
                4,
                () -> demo.postJson(
                        "/api/folders/" + folderId + "/analyses/",
                        "{\"analyses\": [{\"type\": \"biometry\"}, {\"type\": \"quality\"}]}"));
        expectError(
                400,
                4,
                () -> demo.postJson(
                        "/api/folders/" + folderId + "/analyses/",
                        "{\"analyses\": [{\"type\": \"biometry\", \"source_media\": [\"not-in-this-folder\"]}]}"));
        expectError(
                400,
                4,
                () -> demo.postJson(
                        "/api/folders/" + folderId + "/analyses/",
                        "{\"analyses\": [{\"type\": \"biometry\", \"params\": {\"threshold\": 1.5}}]}"));
        // Single-request mode validates its analyses before storing the folder.
        expectError(
                400,
                4,
                () -> demo.postMultipart(
                        "/api/folders/", onePhoto().field("payload", "{\"analyses\": [{\"type\": \"collection\"}]}")));
    }

    @Test
    void wrongMethodIs1() throws Exception {
        expectError(
                405,
                1,
                () -> demo.send(
                        java.net.http.HttpRequest.newBuilder(java.net.URI.create(demo.base() + "/api/analyses/x"))
                                .header("X-Forensic-Access-Token", demo.token)
                                .DELETE()));
    }

    /** A JPEG signature followed by padding: passes the content check, fails the size check. */
    static byte[] jpegOfSize(int size) {
        byte[] b = new byte[size];
        b[0] = (byte) 0xFF;
        b[1] = (byte) 0xD8;
        b[2] = (byte) 0xFF;
        return b;
    }
}
