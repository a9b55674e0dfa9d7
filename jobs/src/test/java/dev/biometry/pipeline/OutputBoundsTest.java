package dev.biometry.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.biometry.api.DeadLetter;
import dev.biometry.api.InputParser;
import dev.biometry.api.Json;
import org.junit.jupiter.api.Test;

/** {@link OutputBounds}: records under the limit pass untouched, larger ones become small stand-ins that fit. */
class OutputBoundsTest {

    private static final int LIMIT = 65_536;

    @Test
    void aSmallAnalysisRecordPassesUnchanged() {
        ResultRecord record = new ResultRecord("a-1", "f-1", "FINISHED", "SUCCESS", null, "{\"analyse_id\":\"a-1\"}");
        assertThat(OutputBounds.bound(record, LIMIT)).isSameAs(record);
    }

    @Test
    void anOversizedFinalRecordBecomesASmallFailedRecordNamingTheAnalysis() throws Exception {
        ResultRecord big = analysis("FINISHED", "SUCCESS").forRequest("t", 9L, false);

        ResultRecord small = OutputBounds.bound(big, LIMIT);

        assertThat(small.json().length()).isLessThan(1_000);
        assertThat(small.state()).isEqualTo("FAILED");
        assertThat(small.resolutionStatus()).isEqualTo("FAILED");
        assertThat(small.token()).isEqualTo("t");
        assertThat(small.resolutionEndpoint()).isEqualTo("https://hook.example/cb");
        JsonNode json = Json.mapper().readTree(small.json());
        assertThat(json.get("analyse_id").asText()).isEqualTo("a-1");
        assertThat(json.get("folder_id").asText()).isEqualTo("f-1");
        assertThat(json.get("state").asText()).isEqualTo("FAILED");
        assertThat(json.get("error_code").asInt()).isEqualTo(4);
        assertThat(json.get("error_message").asText())
                .contains("FINISHED analysis record is")
                .contains("output limit of 65536 bytes");
        assertThat(json.at("/params/threshold").asDouble()).isEqualTo(0.85);
        assertThat(json.has("source_media")).isFalse();
    }

    @Test
    void anOversizedProcessingRecordStaysProcessingWithoutItsMediaList() throws Exception {
        ResultRecord small = OutputBounds.bound(analysis("PROCESSING", "PROCESSING"), LIMIT);

        assertThat(small.isFinal()).isFalse();
        JsonNode json = Json.mapper().readTree(small.json());
        assertThat(json.get("state").asText()).isEqualTo("PROCESSING");
        assertThat(json.has("source_media")).isFalse();
        assertThat(json.has("error_code")).isFalse();
    }

    @Test
    void anOversizedFolderRecordKeepsItsRollUpAndCounts() throws Exception {
        ObjectNode folder = Json.mapper().createObjectNode();
        folder.put("folder_id", "f-1")
                .put("resolution_status", "FINISHED")
                .put("time_created", 1.0)
                .put("time_updated", 2.0);
        ArrayNode media = folder.putArray("media");
        for (int i = 0; i < 3_000; i++) {
            media.addObject().put("media_id", "media-" + i).put("media_type", "IMAGE_FOLDER");
        }
        folder.putArray("analyses").addObject().put("analyse_id", "a-1");
        folder.put("media_count", 3_000).put("analyses_count", 1);
        FolderRecord big = new FolderRecord("f-1", "FINISHED", folder.toString());
        assertThat(big.json().length()).isGreaterThan(LIMIT);

        FolderRecord small = OutputBounds.bound(big, LIMIT);

        JsonNode json = Json.mapper().readTree(small.json());
        assertThat(json.get("folder_id").asText()).isEqualTo("f-1");
        assertThat(json.get("resolution_status").asText()).isEqualTo("FINISHED");
        assertThat(json.get("media")).isEmpty();
        assertThat(json.get("media_count").asInt()).isEqualTo(3_000);
        assertThat(json.get("analyses_count").asInt()).isEqualTo(1);
        assertThat(json.get("truncated").asBoolean()).isTrue();
    }

    @Test
    void aDeadLetterIsCappedAndStillFitsWhenItsTextIsHuge() {
        String payload = "p".repeat(200_000);
        DeadLetter capped = OutputBounds.bound(new DeadLetter(4, "m", "d", "t", 0, 1, payload, false), 1_000, LIMIT);
        assertThat(capped.payload()).hasSize(1_000);
        assertThat(capped.payloadTruncated()).isTrue();

        // Control characters take 6 bytes each once JSON-escaped: the payload goes, the record fits.
        DeadLetter escaped = OutputBounds.bound(
                new DeadLetter(4, "x".repeat(100_000), "d", "t", 0, 1, "\u0001".repeat(60_000), false), 60_000, LIMIT);
        assertThat(escaped.payload()).isNull();
        assertThat(escaped.payloadTruncated()).isTrue();
        assertThat(InputParser.toJson(escaped).length()).isLessThan(LIMIT);
    }

    private static ResultRecord analysis(String state, String resolution) {
        ObjectNode json = Json.mapper().createObjectNode();
        json.put("analyse_id", "a-1")
                .put("folder_id", "f-1")
                .put("type", "BIOMETRY")
                .put("state", state)
                .put("resolution_status", resolution)
                .put("time_created", 1.5)
                .put("time_updated", 2.5);
        json.putObject("params").put("threshold", 0.85);
        ArrayNode media = json.putArray("source_media");
        for (int i = 0; i < 100; i++) {
            media.addObject().put("media_id", "m" + i).putObject("meta_data").put("pad", "x".repeat(4_000));
        }
        return new ResultRecord("a-1", "f-1", state, resolution, "https://hook.example/cb", json.toString());
    }
}
