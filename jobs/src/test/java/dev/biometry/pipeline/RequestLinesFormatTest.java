package dev.biometry.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.biometry.api.Json;
import dev.biometry.api.RequestLines;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.file.src.reader.StreamFormat;
import org.apache.flink.core.fs.FileSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Relative media URIs of a requests file resolve against the file's folder, a local path or, for an input on
 * another file system ({@code s3://...}), the parent URI of the input.
 */
class RequestLinesFormatTest {

    @Test
    void theBaseOfAnInputIsItsParentFolderOnAnyFileSystem() {
        assertThat(RequestLinesFormat.baseDirOf("s3://bucket/batch/requests.jsonl"))
                .isEqualTo("s3://bucket/batch");
        assertThat(RequestLinesFormat.baseDirOf("s3://bucket/requests.jsonl")).isEqualTo("s3://bucket/");
        assertThat(RequestLinesFormat.baseDirOf("hdfs://nn:8020/jobs/in/requests.jsonl"))
                .isEqualTo("hdfs://nn:8020/jobs/in");
        assertThat(RequestLinesFormat.baseDirOf("/data/batch/requests.jsonl")).isEqualTo("/data/batch");
        assertThat(RequestLinesFormat.baseDirOf("file:///data/my batch/requests.jsonl"))
                .isEqualTo("/data/my batch");
        assertThat(RequestLinesFormat.baseDirOf("requests.jsonl"))
                .isEqualTo(Path.of("").toAbsolutePath().toString());
        assertThat(RequestLinesFormat.isLocal("/data/batch")).isTrue();
        assertThat(RequestLinesFormat.isLocal("file:///data/batch")).isTrue();
        assertThat(RequestLinesFormat.isLocal("s3://bucket/batch")).isFalse();
    }

    @Test
    void relativeUrisResolveAgainstAFolderUri() {
        URI folder = URI.create("s3://bucket/batch");
        assertThat(RequestLines.absoluteUri("photos/a.jpg", folder)).isEqualTo("s3://bucket/batch/photos/a.jpg");
        assertThat(RequestLines.absoluteUri("photos/a.jpg", URI.create("s3://bucket/batch/")))
                .isEqualTo("s3://bucket/batch/photos/a.jpg");
        assertThat(RequestLines.absoluteUri("../shared/my photo.jpg", folder))
                .isEqualTo("s3://bucket/shared/my%20photo.jpg");
        assertThat(RequestLines.absoluteUri("a.jpg", URI.create("s3://bucket"))).isEqualTo("s3://bucket/a.jpg");
        assertThat(RequestLines.absoluteUri("https://media.example/a.jpg", folder))
                .isEqualTo("https://media.example/a.jpg");
        assertThat(RequestLines.absoluteUri("file:///data/a.jpg", folder)).isEqualTo("file:///data/a.jpg");
    }

    @Test
    void theFormatResolvesRelativeMediaOfEachLineAgainstItsBase(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("requests.jsonl");
        Files.writeString(
                file,
                String.join(
                        "\n",
                        "# a comment",
                        "{\"folder_id\":\"f\",\"analyses\":[{\"type\":\"biometry\",\"analyse_id\":\"a\"}],"
                                + "\"media\":[{\"media_id\":\"m\",\"media_type\":\"IMAGE_FOLDER\",\"uri\":\"photos/a.jpg\"}]}",
                        ""));

        assertThat(mediaUris(file, "s3://bucket/batch")).containsExactly("s3://bucket/batch/photos/a.jpg");
        assertThat(mediaUris(file, dir.toString()))
                .containsExactly(dir.resolve("photos/a.jpg").toUri().toString());
    }

    private static List<String> mediaUris(Path file, String baseDir) throws Exception {
        RequestLinesFormat format = new RequestLinesFormat("requests.jsonl", baseDir);
        List<String> uris = new ArrayList<>();
        org.apache.flink.core.fs.Path path = new org.apache.flink.core.fs.Path(file.toUri());
        try (StreamFormat.Reader<RawRecord> reader = format.createReader(
                new Configuration(), FileSystem.getLocalFileSystem().open(path))) {
            RawRecord record;
            while ((record = reader.read()) != null) {
                JsonNode request = Json.mapper().readTree(record.value());
                request.get("media").forEach(m -> uris.add(m.get("uri").asText()));
                assertThat(record.offset()).isEqualTo(2); // line number: the comment is skipped
            }
        }
        return uris;
    }
}
