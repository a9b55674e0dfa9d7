package dev.biometry.pipeline;

import static dev.biometry.testing.JobRun.media;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.biometry.api.Json;
import dev.biometry.testing.JobRun;
import dev.biometry.testing.KafkaTopicReader.Message;
import dev.biometry.testing.TestData;
import dev.biometry.testing.TestImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.flink.changelog.fs.FsStateChangelogOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateChangelogOptions;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.FileUtils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The changelog state backend ({@code --changelog-materialization}) restores what the job keeps: an analysis
 * finishes, the job is cancelled and started again from its latest checkpoint, and then a second analysis of the
 * same folder names its media only by id (the folder's media come from the restored state) and a request reusing
 * the first analyse_id is refused (its claim is restored). With materialisation every second the restore reads a
 * materialised snapshot plus the log after it; with an hour, the log (no materialisation is due during the test).
 * Restoring the same way in Flink's default NO_CLAIM mode failed every checkpoint after the restore.
 */
@Tag("integration")
class ChangelogRecoveryTest {

    /** Where this test's TaskManager writes the log: TaskManagers take it from their own configuration. */
    private static final Path LOG_DIR;

    static {
        try {
            LOG_DIR = Files.createTempDirectory("biometry-changelog-test");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = new MiniClusterExtension(() -> {
        Configuration tm = new Configuration();
        tm.set(StateChangelogOptions.STATE_CHANGE_LOG_STORAGE, "filesystem");
        tm.set(FsStateChangelogOptions.BASE_PATH, LOG_DIR.toUri().toString());
        return new MiniClusterResourceConfiguration.Builder()
                .setNumberTaskManagers(1)
                .setNumberSlotsPerTaskManager(2)
                .setConfiguration(tm)
                .build();
    });

    @AfterAll
    static void deleteLog() {
        FileUtils.deleteDirectoryQuietly(LOG_DIR.toFile());
    }

    @ParameterizedTest
    @ValueSource(strings = {"1s", "1h"})
    void folderMediaAndClaimsSurviveARestoreFromAChangelogCheckpoint(
            String materialization, @TempDir Path mediaRoot, @TempDir Path checkpoints) throws Exception {
        byte[] photo = TestData.read(TestData.samplePhoto(3));
        String one = TestImages.write(mediaRoot, "one.jpg", photo).toUri().toString();
        String two = TestImages.write(mediaRoot, "two.jpg", photo).toUri().toString();
        try (JobRun run = new JobRun(Map.of(
                "media-roots",
                mediaRoot.toString(),
                "checkpoint-dir",
                checkpoints.toUri().toString(),
                "checkpoint-interval",
                "200ms",
                "changelog-materialization",
                materialization))) {
            run.startJob();
            String folder = JobRun.newId();
            String first = JobRun.newId();
            run.send(
                    run.config().requestsTopic(),
                    folder,
                    request(
                            folder,
                            first,
                            media(folder, "a", one, "IMAGE_FOLDER"),
                            media(folder, "b", two, "IMAGE_FOLDER")));
            // Read committed: the checkpoint holding the folder's media and the claim has completed.
            assertThat(run.finalResult(first).get("resolution_status").asText()).isEqualTo("SUCCESS");
            try (Stream<Path> log = Files.walk(LOG_DIR)) {
                assertThat(log.filter(Files::isRegularFile))
                        .as("files of the changelog")
                        .isNotEmpty();
            }

            Path restoredFrom = run.restartFromLatestCheckpoint();
            assertThat(restoredFrom).startsWith(checkpoints);

            // Media named by id only: they exist for the restored job only in the folder's restored state.
            String second = run.request(folder, List.of("a", "b"));
            JsonNode result = run.finalResult(second);
            assertThat(result.get("state").asText()).as(result.toString()).isEqualTo("FINISHED");
            assertThat(result.get("resolution_status").asText()).isEqualTo("SUCCESS");
            assertThat(result.get("source_media")).hasSize(2);

            // The first analyse_id again: its restored claim refuses it.
            run.send(run.config().requestsTopic(), folder, request(folder, first));
            List<Message> refused = run.deadLetters.await(
                    m -> m.value()
                            .get("error_message")
                            .asText()
                            .contains("analyse_id " + first + " is already running"),
                    l -> !l.isEmpty(),
                    JobRun.RESULT_TIMEOUT);
            assertThat(refused).hasSize(1);
        }
    }

    private static byte[] request(String folder, String analysisId, ObjectNode... media) throws Exception {
        ObjectNode r = Json.mapper().createObjectNode();
        r.put("folder_id", folder);
        ObjectNode a = r.putArray("analyses").addObject();
        a.put("type", "biometry");
        a.put("analyse_id", analysisId);
        a.putObject("meta_data").put("case", "test");
        if (media.length > 0) {
            var inline = r.putArray("media");
            for (ObjectNode m : media) {
                inline.add(m);
            }
        } else {
            a.putArray("source_media").add("a").add("b");
        }
        return Json.mapper().writeValueAsBytes(r);
    }
}
