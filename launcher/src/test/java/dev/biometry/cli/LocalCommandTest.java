package dev.biometry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.biometry.api.Json;
import dev.biometry.testing.TestData;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code local --requests FILE --exit-when-done --no-ui}, as the README shows it for trying one's own photos:
 * in-process Kafka, local Flink, relative file URIs, generated analysis ids, a bad line.
 */
@org.junit.jupiter.api.Tag("integration")
class LocalCommandTest {

    @Test
    void runsTheRequestsOfAFileAndPrintsOneFinalResultPerAnalysis(@TempDir Path dir) throws Exception {
        Path photos = Files.createDirectories(dir.resolve("photos"));
        Files.copy(TestData.samplePhoto(1), photos.resolve("me.jpg"));
        Files.copy(TestData.samplePhoto(3), photos.resolve("passport.jpg"));
        Path requests = dir.resolve("requests.jsonl");
        Files.writeString(
                requests,
                String.join(
                        "\n",
                        "# comment lines and blank lines are skipped",
                        "{\"folder_id\":\"f1\",\"analyses\":[{\"type\":\"biometry\"}],\"media\":["
                                + "{\"media_id\":\"m1\",\"media_type\":\"IMAGE_FOLDER\",\"tags\":[\"photo_selfie\"],\"uri\":\"photos/me.jpg\"},"
                                + "{\"media_id\":\"m2\",\"media_type\":\"IMAGE_FOLDER\",\"tags\":[\"photo_id_front\"],\"uri\":\"photos/passport.jpg\"}]}",
                        "",
                        "{\"folder_id\":\"f2\",\"analyses\":[{\"type\":\"biometry\",\"analyse_id\":\"only-one\"}],\"media\":["
                                + "{\"media_id\":\"m3\",\"media_type\":\"IMAGE_FOLDER\",\"tags\":[\"photo_selfie\"],\"uri\":\"photos/me.jpg\"}]}",
                        "this line is not JSON"));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        String errText = runLocal(requests, out);
        assertThat(errText).contains("line 5 rejected");
        List<JsonNode> results = new ArrayList<>();
        for (String line : out.toString(StandardCharsets.UTF_8).split("\n")) {
            if (!line.isBlank()) {
                results.add(Json.mapper().readTree(line));
            }
        }
        assertThat(results).hasSize(2);
        JsonNode first = results.get(0);
        assertThat(first.get("folder_id").asText()).isEqualTo("f1");
        assertThat(first.get("analyse_id").asText()).isNotBlank();
        assertThat(first.get("state").asText()).isEqualTo("FINISHED");
        assertThat(first.get("resolution_status").asText()).isEqualTo("DECLINED");
        assertThat(first.get("results_media")).hasSize(2);
        JsonNode second = results.get(1);
        assertThat(second.get("analyse_id").asText()).isEqualTo("only-one");
        assertThat(second.get("state").asText()).isEqualTo("FAILED");
        assertThat(second.get("error_code").asInt()).isEqualTo(4);
    }

    /**
     * Bad lines do not stop a run: a line above the message limit, a line that is not UTF-8 and a line asking again
     * for an analysis id are each reported on stderr with their number and left out, and with
     * {@code --exit-when-done} the run ends once every good line has its final result.
     */
    @Test
    void badLinesAreReportedWithTheirNumberAndTheRunGoesOn(@TempDir Path dir) throws Exception {
        Path photos = Files.createDirectories(dir.resolve("photos"));
        Files.copy(TestData.samplePhoto(3), photos.resolve("alice.jpg"));
        Path requests = dir.resolve("requests.jsonl");
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        file.write((request("f1", "a-1", "m1") + "\n").getBytes(StandardCharsets.UTF_8)); // line 1
        file.write(("{\"folder_id\":\"" + "x".repeat(5 << 20) + "\"}\n").getBytes(StandardCharsets.UTF_8)); // 2: 5 MB
        file.write((request("f3", "caf\u00e9", "m3") + "\n").getBytes(StandardCharsets.ISO_8859_1)); // 3: Latin-1
        file.write((request("f4", "a-1", "m4") + "\n").getBytes(StandardCharsets.UTF_8)); // 4: a-1 again
        file.write((request("f5", "a-5", "m5") + "\n").getBytes(StandardCharsets.UTF_8)); // 5
        Files.write(requests, file.toByteArray());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        String errText = runLocal(requests, out);
        assertThat(errText)
                .contains("line 2 skipped: 5242896 bytes, above the limit of 1000000 bytes")
                .contains("line 3 skipped: not valid UTF-8")
                .contains("line 4 skipped: analyse_id 'a-1' is already asked for on line 1")
                .contains("sent 2 request line(s) with 2 analyses");
        List<String> ids = new ArrayList<>();
        for (String line : out.toString(StandardCharsets.UTF_8).split("\n")) {
            if (!line.isBlank()) {
                JsonNode result = Json.mapper().readTree(line);
                ids.add(result.get("analyse_id").asText());
                assertThat(result.get("state").asText()).as(line).isEqualTo("FINISHED");
                assertThat(result.get("resolution_status").asText()).as(line).isEqualTo("SUCCESS");
            }
        }
        assertThat(ids).containsExactly("a-1", "a-5");
    }

    /** Runs {@code local --requests FILE --exit-when-done --no-ui}, asserts exit code 0; returns stderr. */
    static String runLocal(Path requests, ByteArrayOutputStream out) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = LocalMain.run(
                new String[] {
                    "local",
                    "--requests",
                    requests.toString(),
                    "--exit-when-done",
                    "--no-ui",
                    "--models",
                    TestData.modelsDir().toString(),
                    "--parallelism",
                    "2",
                    "--timeout",
                    "180"
                },
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        String errText = err.toString(StandardCharsets.UTF_8);
        assertThat(code).as(errText).isZero();
        return errText;
    }

    /** A request of one analysis over the same photo twice (SUCCESS). */
    private static String request(String folder, String analysis, String media) {
        return "{\"folder_id\":\"" + folder + "\",\"analyses\":[{\"type\":\"biometry\",\"analyse_id\":\"" + analysis
                + "\"}],\"media\":["
                + "{\"media_id\":\"" + media + "a\",\"media_type\":\"IMAGE_FOLDER\",\"uri\":\"photos/alice.jpg\"},"
                + "{\"media_id\":\"" + media + "b\",\"media_type\":\"IMAGE_FOLDER\",\"uri\":\"photos/alice.jpg\"}]}";
    }
}
