package dev.biometry.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.biometry.testing.TestData;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * With the broker gone, a call that must publish answers 503 with error 11 (EXTERNAL SERVICE) within
 * {@code --kafka-timeout} and leaves no analysis, media row or file behind; reads keep working from the store.
 */
@org.junit.jupiter.api.Tag("integration")
class BrokerDownTest {

    @TempDir
    static Path work;

    @Test
    void publishingCallsFailWith11AndStoreNothing() throws Exception {
        try (KafkaOnlyStack stack = new KafkaOnlyStack(
                work,
                "jdbc:h2:file:" + work.resolve("db") + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE",
                "sa",
                Map.of("kafka-timeout", "3s"))) {
            OzClient client = new OzClient(stack.api.port());
            client.login(Auth.DEMO_EMAIL, Auth.DEMO_PASSWORD);
            byte[] photo = TestData.read(TestData.samplePhoto(2));
            OzClient.Answer folder = client.postMultipart(
                    "/api/folders/",
                    new OzClient.Multipart()
                            .file("photo1", "a.jpg", "image/jpeg", photo)
                            .file("photo2", "b.jpg", "image/jpeg", photo));
            assertThat(folder.status()).isEqualTo(201);
            String folderId = folder.json().get("folder_id").asText();

            stack.kafka.close();

            OzClient.Answer analyses = client.postJson(
                    "/api/folders/" + folderId + "/analyses/", "{\"analyses\": [{\"type\": \"biometry\"}]}");
            assertThat(analyses.status()).as(analyses.text()).isEqualTo(503);
            assertThat(analyses.json().get("error_code").asInt()).isEqualTo(11);
            OzClient.Answer media = client.postMultipart(
                    "/api/folders/" + folderId + "/media/",
                    new OzClient.Multipart().file("photo3", "c.jpg", "image/jpeg", photo));
            assertThat(media.status()).as(media.text()).isEqualTo(503);
            OzClient.Answer created = client.postMultipart(
                    "/api/folders/", new OzClient.Multipart().file("photo1", "a.jpg", "image/jpeg", photo));
            assertThat(created.status()).as(created.text()).isEqualTo(503);

            OzClient.Answer read = client.get("/api/folders/" + folderId + "?with_analyses=true");
            assertThat(read.status()).isEqualTo(200);
            assertThat(read.json().get("analyses")).isEmpty();
            assertThat(read.json().get("media")).hasSize(2);
            assertThat(read.json().get("resolution_status").asText()).isEqualTo("INITIAL");
            assertThat(client.get("/api/folders/").json().get("total_count").asLong())
                    .isEqualTo(1);
            try (var files = java.nio.file.Files.walk(stack.mediaDir)) {
                assertThat(files.filter(java.nio.file.Files::isRegularFile)).hasSize(2);
            }
        }
    }
}
