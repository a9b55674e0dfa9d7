package dev.biometry.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.biometry.api.DeadLetter;
import dev.biometry.api.Json;
import dev.biometry.config.JobConfig;
import dev.biometry.media.MediaException;
import dev.biometry.testing.CollectingSink;
import dev.biometry.testing.FakeEngine;
import dev.biometry.testing.JobRun;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.connector.datagen.source.GeneratorFunction;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole topology of {@link BiometryJob#build} in seconds, without Kafka or the models: requests come from a
 * bounded source and results, folder roll-ups and dead letters go to collecting sinks through
 * {@link BiometryJob.Endpoints}, and each slot runs a {@link FakeEngine} (the media's bytes say whose face it shows)
 * behind the {@link EngineFactory} seam. The job ends when its input does; then every analysis has exactly one final
 * Oz result (FINISHED with SUCCESS or DECLINED, or FAILED with its code) and every folder its roll-up.
 */
@Tag("integration")
class FakeEngineTopologyTest {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER =
            new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
                    .setNumberTaskManagers(1)
                    .setNumberSlotsPerTaskManager(2)
                    .build());

    @TempDir
    static Path mediaRoot;

    private static Map<String, String> uris;

    @BeforeAll
    static void writeMedia() throws Exception {
        Map<String, byte[]> files = Map.of(
                "alice-1",
                FakeEngine.face("alice"),
                "alice-2",
                FakeEngine.face("alice"),
                "bob",
                FakeEngine.face("bob"),
                "grey",
                FakeEngine.noFace(),
                "broken",
                "\u00ff\u00d8 garbage".getBytes(StandardCharsets.ISO_8859_1));
        uris = new HashMap<>();
        for (Map.Entry<String, byte[]> e : files.entrySet()) {
            Path file = Files.write(mediaRoot.resolve(e.getKey() + ".jpg"), e.getValue());
            uris.put(e.getKey(), file.toUri().toString());
        }
        uris.put("missing", mediaRoot.resolve("missing.jpg").toUri().toString());
    }

    @Test
    void aHandfulOfAnalysesGetTheirOzResultsAndTheirFoldersTheirRollUps() throws Exception {
        Map<String, String> folderOf = new LinkedHashMap<>();
        List<byte[]> lines = new ArrayList<>();
        lines.add(request("same", folderOf, "alice-1", "alice-2"));
        lines.add(request("different", folderOf, "alice-1", "bob"));
        lines.add(request("no-face", folderOf, "alice-1", "grey"));
        lines.add(request("undecodable", folderOf, "alice-1", "broken"));
        lines.add(request("missing", folderOf, "alice-1", "missing"));
        lines.add(request("alone", folderOf, "alice-1"));
        // One request, two analyses: threshold_min above the job's threshold fails only its own analysis.
        ObjectNode twoAnalyses = requestNode("pair", folderOf, "alice-1", "alice-2");
        ObjectNode tooHigh = ((ArrayNode) twoAnalyses.get("analyses")).addObject();
        tooHigh.put("type", "biometry")
                .put("analyse_id", "too-high")
                .putObject("params")
                .put("threshold_min", 0.9);
        folderOf.put("too-high", folderOf.get("pair"));
        lines.add(Json.mapper().writeValueAsBytes(twoAnalyses));
        lines.add("{ not json".getBytes(StandardCharsets.UTF_8));

        CollectingSink<ResultRecord> results = new CollectingSink<>();
        CollectingSink<FolderRecord> folders = new CollectingSink<>();
        CollectingSink<DeadLetter> deadLetters = new CollectingSink<>();
        JobConfig config = JobConfig.fromOptions(Map.of("media-roots", mediaRoot.toString(), "parallelism", "2"));
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(config.parallelism());
        BiometryJob.build(
                env,
                config,
                new BiometryJob.Endpoints(
                        null, source(config.requestsTopic(), lines), results, folders, deadLetters, false),
                FakeEngine.FACTORY);
        env.execute("fake-engine-topology"); // returns when the bounded input is processed

        Map<String, JsonNode> finals = new HashMap<>();
        Map<String, Integer> processing = new HashMap<>();
        for (ResultRecord r : results.collected()) {
            if (r.isFinal()) {
                assertThat(finals.put(r.analyseId(), Json.mapper().readTree(r.json())))
                        .as("a second final record of %s", r.analyseId())
                        .isNull();
            } else {
                processing.merge(r.analyseId(), 1, Integer::sum);
            }
        }
        assertThat(finals).containsOnlyKeys(folderOf.keySet());

        assertVerdict(finals.get("same"), "SUCCESS");
        assertThat(finals.get("same").at("/results_data/min_confidence").asDouble())
                .isGreaterThan(0.99);
        assertVerdict(finals.get("different"), "DECLINED");
        assertThat(finals.get("different").at("/results_data/max_confidence").asDouble())
                .isLessThan(0.5);
        assertVerdict(finals.get("no-face"), "DECLINED");
        JsonNode grey = finals.get("no-face").at("/results_media/1");
        assertThat(grey.at("/results_data/faces_detected").asInt()).isZero();
        assertThat(grey.at("/error/code").asInt()).isEqualTo(4);
        assertThat(grey.at("/error/message").asText()).contains("no face");
        assertVerdict(finals.get("pair"), "SUCCESS");

        assertFailed(finals.get("undecodable"), MediaException.Kind.UNDECODABLE.ozErrorCode(), "media broken: ");
        assertFailed(finals.get("missing"), 10, "missing");
        assertFailed(finals.get("alone"), 4, "at least two eligible media");
        assertFailed(finals.get("too-high"), 4, "params.threshold_min (0.9) must not exceed the threshold");
        // Analyses that ran were announced as PROCESSING first; those refused before running were not.
        assertThat(processing).containsKeys("same", "different", "no-face", "undecodable", "missing", "pair");

        assertThat(deadLetters.collected()).singleElement().satisfies(d -> {
            assertThat(d.errorCode()).isEqualTo(3);
            assertThat(d.sourceTopic()).isEqualTo(config.requestsTopic());
        });

        // Each folder's last roll-up: FINISHED when its analyses finished, FAILED when one of them failed.
        Map<String, JsonNode> lastFolder = new HashMap<>();
        for (FolderRecord f : folders.collected()) {
            lastFolder.put(f.folderId(), Json.mapper().readTree(f.json()));
        }
        assertThat(lastFolder).containsOnlyKeys(folderOf.values());
        assertRollUp(lastFolder.get(folderOf.get("same")), "FINISHED", Map.of("same", "SUCCESS"));
        assertRollUp(lastFolder.get(folderOf.get("different")), "FINISHED", Map.of("different", "DECLINED"));
        assertRollUp(lastFolder.get(folderOf.get("missing")), "FAILED", Map.of("missing", "FAILED"));
        assertRollUp(lastFolder.get(folderOf.get("pair")), "FAILED", Map.of("pair", "SUCCESS", "too-high", "FAILED"));
        assertThat(lastFolder.get(folderOf.get("pair")).get("media_count").asInt())
                .isEqualTo(2);
    }

    // ---- helpers

    /** A bounded source of the request lines, as the Kafka source gives them (raw bytes with their position). */
    private static DataGeneratorSource<RawRecord> source(String topic, List<byte[]> lines) {
        ArrayList<byte[]> values = new ArrayList<>(lines);
        GeneratorFunction<Long, RawRecord> generator =
                index -> new RawRecord(topic, 0, index, null, values.get(index.intValue()));
        return new DataGeneratorSource<>(generator, values.size(), TypeInformation.of(RawRecord.class));
    }

    private static byte[] request(String analyseId, Map<String, String> folderOf, String... media) throws Exception {
        return Json.mapper().writeValueAsBytes(requestNode(analyseId, folderOf, media));
    }

    /** A request of one analysis over {@code media} (inline) in a new folder. */
    private static ObjectNode requestNode(String analyseId, Map<String, String> folderOf, String... media) {
        String folder = JobRun.newId();
        folderOf.put(analyseId, folder);
        ObjectNode r = Json.mapper().createObjectNode();
        r.put("folder_id", folder);
        r.putArray("analyses").addObject().put("type", "biometry").put("analyse_id", analyseId);
        ArrayNode inline = r.putArray("media");
        for (String m : media) {
            inline.add(JobRun.media(folder, m, uris.get(m), "IMAGE_FOLDER"));
        }
        return r;
    }

    private static void assertVerdict(JsonNode result, String resolution) {
        assertThat(result.get("state").asText()).as(result.toString()).isEqualTo("FINISHED");
        assertThat(result.get("resolution_status").asText())
                .as(result.toString())
                .isEqualTo(resolution);
        assertThat(result.has("error_code")).isFalse();
    }

    private static void assertFailed(JsonNode result, int code, String messagePart) {
        assertThat(result.get("state").asText()).as(result.toString()).isEqualTo("FAILED");
        assertThat(result.get("resolution_status").asText()).isEqualTo("FAILED");
        assertThat(result.get("error_code").asInt()).as(result.toString()).isEqualTo(code);
        assertThat(result.get("error_message").asText()).contains(messagePart);
    }

    private static void assertRollUp(JsonNode folder, String status, Map<String, String> analyses) {
        assertThat(folder.get("resolution_status").asText())
                .as(folder.toString())
                .isEqualTo(status);
        Map<String, String> listed = new HashMap<>();
        folder.get("analyses")
                .forEach(a -> listed.put(
                        a.get("analyse_id").asText(), a.get("resolution_status").asText()));
        assertThat(listed).isEqualTo(analyses);
    }
}
