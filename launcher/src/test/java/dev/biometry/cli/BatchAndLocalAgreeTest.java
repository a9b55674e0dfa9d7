package dev.biometry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.biometry.testing.TestData;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same requests give the same results in batch mode ({@code batch}, the cluster jar's command) and in streaming
 * mode ({@code local}, this module's): moved here from BatchCommandTest, whose request writer and result readers
 * it uses (the jobs test-jar).
 */
@org.junit.jupiter.api.Tag("integration")
class BatchAndLocalAgreeTest {

    @Test
    void batchAndStreamingGiveTheSameResults(@TempDir Path dir) throws Exception {
        Path requests = BatchCommandTest.writeRequests(dir, 8, 5);
        Files.writeString(
                requests,
                String.join(
                        "\n",
                        "{\"folder_id\":\"few\",\"analyses\":[{\"type\":\"biometry\",\"analyse_id\":\"too-few\"}],"
                                + "\"media\":[{\"media_id\":\"lonely\",\"media_type\":\"IMAGE_FOLDER\",\"uri\":\"photos/sample2.jpg\"}]}",
                        ""),
                java.nio.file.StandardOpenOption.APPEND);
        Path batchOut = dir.resolve("batch.jsonl");
        BatchCommandTest.run(
                "batch",
                "--input",
                requests.toString(),
                "--output",
                batchOut.toString(),
                "--models",
                TestData.modelsDir().toString(),
                "--parallelism",
                "2");
        ByteArrayOutputStream streamOut = new ByteArrayOutputStream();
        LocalCommandTest.runLocal(requests, streamOut);

        Map<String, JsonNode> batch = BatchCommandTest.byId(BatchCommandTest.readLines(batchOut));
        Map<String, JsonNode> streaming =
                BatchCommandTest.byId(BatchCommandTest.parse(streamOut.toString(StandardCharsets.UTF_8)));
        assertThat(batch).hasSize(9);
        assertThat(streaming.keySet()).isEqualTo(batch.keySet());
        for (String id : batch.keySet()) {
            assertThat(BatchCommandTest.comparable(batch.get(id)))
                    .as(id)
                    .isEqualTo(BatchCommandTest.comparable(streaming.get(id)));
        }
    }
}
