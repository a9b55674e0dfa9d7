package dev.biometry.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.biometry.api.Json;
import dev.biometry.api.MediaRef;
import dev.biometry.api.MediaType;
import java.time.Duration;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link FolderStatusFunction} in an operator test harness: the folder object it emits on every change and its
 * {@code resolution_status} roll-up (the roll-up rule and the folder JSON on their own: {@code FolderRollUpTest}).
 */
class FolderStatusFunctionTest {

    private static final long T0 = 7_000_000L;
    private static final String FOLDER = "folder-1";

    private KeyedTwoInputStreamOperatorTestHarness<String, MediaRef, ResultRecord, FolderRecord> harness;

    @BeforeEach
    void openHarness() throws Exception {
        harness = new KeyedTwoInputStreamOperatorTestHarness<>(
                new KeyedCoProcessOperator<>(new FolderStatusFunction(Duration.ofHours(24), false)),
                MediaRef::folderId,
                ResultRecord::folderId,
                Types.STRING);
        harness.open();
        harness.setProcessingTime(T0);
    }

    @AfterEach
    void closeHarness() throws Exception {
        harness.close();
    }

    @Test
    void theRollUpGoesFromInitialThroughProcessingToFinished() throws Exception {
        harness.processElement1(new StreamRecord<>(media("a", MediaType.IMAGE_FOLDER)));
        FolderRecord initial = last();
        assertThat(harness.extractOutputValues()).hasSize(1);
        assertThat(initial.folderId()).isEqualTo(FOLDER);
        assertThat(initial.resolutionStatus()).isEqualTo("INITIAL");
        JsonNode json = Json.mapper().readTree(initial.json());
        assertThat(json.get("folder_id").asText()).isEqualTo(FOLDER);
        assertThat(json.get("resolution_status").asText()).isEqualTo("INITIAL");
        assertThat(json.get("time_created").decimalValue()).isEqualByComparingTo("7000.000");
        assertThat(json.get("media")).hasSize(1);
        assertThat(json.at("/media/0/media_id").asText()).isEqualTo("a");
        assertThat(json.at("/media/0/media_type").asText()).isEqualTo("IMAGE_FOLDER");
        assertThat(json.get("analyses")).isEmpty();

        // The same media again changes nothing: no new folder object.
        harness.processElement1(new StreamRecord<>(media("a", MediaType.IMAGE_FOLDER)));
        assertThat(harness.extractOutputValues()).hasSize(1);

        harness.setProcessingTime(T0 + 1_000);
        harness.processElement1(new StreamRecord<>(media("b", MediaType.VIDEO_FOLDER)));
        assertThat(last().resolutionStatus()).isEqualTo("INITIAL");
        assertThat(Json.mapper().readTree(last().json()).get("media"))
                .extracting(m ->
                        m.get("media_id").asText() + ":" + m.get("media_type").asText())
                .containsExactly("a:IMAGE_FOLDER", "b:VIDEO_FOLDER");

        harness.setProcessingTime(T0 + 2_000);
        harness.processElement2(new StreamRecord<>(result("an-1", "PROCESSING", "PROCESSING")));
        assertThat(last().resolutionStatus()).isEqualTo("PROCESSING");
        JsonNode processing = Json.mapper().readTree(last().json());
        assertThat(processing.at("/analyses/0/analyse_id").asText()).isEqualTo("an-1");
        assertThat(processing.at("/analyses/0/type").asText()).isEqualTo("BIOMETRY");
        assertThat(processing.at("/analyses/0/state").asText()).isEqualTo("PROCESSING");

        harness.setProcessingTime(T0 + 3_000);
        harness.processElement2(new StreamRecord<>(result("an-1", "FINISHED", "SUCCESS")));
        assertThat(last().resolutionStatus()).isEqualTo("FINISHED");
        JsonNode finished = Json.mapper().readTree(last().json());
        assertThat(finished.get("resolution_status").asText()).isEqualTo("FINISHED");
        assertThat(finished.at("/analyses/0/state").asText()).isEqualTo("FINISHED");
        assertThat(finished.at("/analyses/0/resolution_status").asText()).isEqualTo("SUCCESS");
        assertThat(finished.at("/analyses/0/resolution").asText()).isEqualTo("SUCCESS");
        assertThat(finished.get("time_created").decimalValue()).isEqualByComparingTo("7000.000");
        assertThat(finished.get("time_updated").decimalValue()).isEqualByComparingTo("7003.000");
        assertThat(finished.get("media")).hasSize(2);

        assertThat(harness.extractOutputValues())
                .extracting(FolderRecord::resolutionStatus)
                .containsExactly("INITIAL", "INITIAL", "PROCESSING", "FINISHED");
        assertThat(harness.numProcessingTimeTimers()).isZero();
    }

    @Test
    void aFailedAnalysisFailsTheFolderOnceNothingRunsAnyMore() throws Exception {
        harness.processElement1(new StreamRecord<>(media("a", MediaType.IMAGE_FOLDER)));
        harness.processElement2(new StreamRecord<>(result("an-2", "PROCESSING", "PROCESSING")));
        harness.processElement2(new StreamRecord<>(result("an-1", "PROCESSING", "PROCESSING")));
        harness.processElement2(new StreamRecord<>(result("an-2", "FAILED", "FAILED")));
        assertThat(last().resolutionStatus()).as("an-1 still runs").isEqualTo("PROCESSING");

        harness.processElement2(new StreamRecord<>(result("an-1", "FINISHED", "DECLINED")));
        assertThat(last().resolutionStatus()).isEqualTo("FAILED");
        JsonNode json = Json.mapper().readTree(last().json());
        assertThat(json.get("resolution_status").asText()).isEqualTo("FAILED");
        assertThat(json.get("analyses"))
                .extracting(
                        a -> a.get("analyse_id").asText() + ":" + a.get("state").asText() + ":"
                                + a.get("resolution_status").asText())
                .containsExactly("an-1:FINISHED:DECLINED", "an-2:FAILED:FAILED");
        assertThat(harness.numProcessingTimeTimers()).isZero();
    }

    @Test
    void aResultAloneCreatesTheFolder() throws Exception {
        harness.processElement2(new StreamRecord<>(result("an-1", "FAILED", "FAILED")));
        assertThat(last().resolutionStatus()).isEqualTo("FAILED");
        JsonNode json = Json.mapper().readTree(last().json());
        assertThat(json.get("media")).isEmpty();
        assertThat(json.get("time_created").decimalValue()).isEqualByComparingTo("7000.000");
    }

    @Test
    void foldersAreKeptApart() throws Exception {
        harness.processElement2(new StreamRecord<>(result("an-1", "PROCESSING", "PROCESSING")));
        harness.processElement1(new StreamRecord<>(
                new MediaRef("folder-2", "z", MediaType.IMAGE_FOLDER, new String[0], "file:///z.jpg", null, null)));
        FolderRecord other = last();
        assertThat(other.folderId()).isEqualTo("folder-2");
        assertThat(other.resolutionStatus()).isEqualTo("INITIAL");
        assertThat(Json.mapper().readTree(other.json()).get("analyses")).isEmpty();
    }

    /**
     * Regression: The PROCESSING record (folder-join side output) and the final record (match) reach
     * this operator on different input channels, so Flink does not order them; a final record that overtakes its
     * PROCESSING record is overwritten by it and the folder stays PROCESSING for good.
     */
    @Test
    void aLateProcessingRecordDoesNotReopenAFinishedAnalysis() throws Exception {
        harness.processElement1(new StreamRecord<>(media("a", MediaType.IMAGE_FOLDER)));
        harness.processElement2(new StreamRecord<>(result("an-1", "FINISHED", "SUCCESS")));
        harness.processElement2(new StreamRecord<>(result("an-1", "PROCESSING", "PROCESSING")));

        assertThat(last().resolutionStatus()).isEqualTo("FINISHED");
        assertThat(Json.mapper().readTree(last().json()).at("/analyses/0/state").asText())
                .isEqualTo("FINISHED");
    }

    /**
     * Regression: {@code created} is written once and expires 24 h later ({@code OnCreateAndWrite})
     * even while the folder is active: the next change then re-creates it and the folder's {@code time_created}
     * jumps to that moment.
     */
    @Test
    void timeCreatedStaysPutWhileTheFolderIsActive() throws Exception {
        long hour = Duration.ofHours(1).toMillis();
        harness.setStateTtlProcessingTime(T0);
        harness.processElement1(new StreamRecord<>(media("a", MediaType.IMAGE_FOLDER)));
        harness.setProcessingTime(T0 + 23 * hour);
        harness.setStateTtlProcessingTime(T0 + 23 * hour);
        harness.processElement2(new StreamRecord<>(result("an-1", "PROCESSING", "PROCESSING")));
        harness.setProcessingTime(T0 + 25 * hour);
        harness.setStateTtlProcessingTime(T0 + 25 * hour);
        harness.processElement2(new StreamRecord<>(result("an-1", "FINISHED", "SUCCESS")));

        assertThat(Json.mapper().readTree(last().json()).get("time_created").decimalValue())
                .isEqualByComparingTo("7000.000");
    }

    // ---- helpers

    /** A folder record lists a bounded number of media and analyses (running ones first) and gives the totals. */
    @Test
    void theFolderRecordListsAtMostTheCapAndCountsTheRest() throws Exception {
        try (var capped = new KeyedTwoInputStreamOperatorTestHarness<>(
                new KeyedCoProcessOperator<>(new FolderStatusFunction(Duration.ofHours(24), false, 3)),
                MediaRef::folderId,
                ResultRecord::folderId,
                Types.STRING)) {
            capped.open();
            for (int i = 0; i < 5; i++) {
                capped.setProcessingTime(T0 + i);
                capped.processElement1(new StreamRecord<>(media("m" + i, MediaType.IMAGE_FOLDER)));
            }
            assertThat(capped.extractOutputValues())
                    .as("media beyond the cap are not added")
                    .hasSize(3);
            for (int i = 0; i < 5; i++) {
                capped.setProcessingTime(T0 + 100 + i);
                capped.processElement2(new StreamRecord<>(result("an-" + i, "FINISHED", "SUCCESS")));
            }
            capped.setProcessingTime(T0 + 200);
            capped.processElement2(new StreamRecord<>(result("an-0", "PROCESSING", "PROCESSING")));
            capped.processElement2(new StreamRecord<>(result("an-9", "PROCESSING", "PROCESSING")));

            List<FolderRecord> out = capped.extractOutputValues();
            JsonNode json = Json.mapper().readTree(out.get(out.size() - 1).json());
            assertThat(json.get("resolution_status").asText()).isEqualTo("PROCESSING");
            assertThat(json.get("media"))
                    .extracting(m -> m.get("media_id").asText())
                    .containsExactly("m0", "m1", "m2");
            assertThat(json.get("media_count").asInt()).isEqualTo(3);
            assertThat(json.get("analyses_count").asInt()).isEqualTo(6);
            // The running an-9, then the most recently updated: an-4 and an-3 (an-0 is final: a late PROCESSING
            // record does not reopen it).
            assertThat(json.get("analyses"))
                    .extracting(a -> a.get("analyse_id").asText())
                    .containsExactly("an-3", "an-4", "an-9");
        }
    }

    private FolderRecord last() {
        List<FolderRecord> out = harness.extractOutputValues();
        assertThat(out).isNotEmpty();
        return out.get(out.size() - 1);
    }

    private static MediaRef media(String id, MediaType type) {
        return new MediaRef(FOLDER, id, type, new String[] {"photo_selfie"}, "file:///media/" + id, id, null);
    }

    private static ResultRecord result(String analyseId, String state, String resolution) {
        return new ResultRecord(
                analyseId,
                FOLDER,
                state,
                resolution,
                null,
                "{\"analyse_id\":\"" + analyseId + "\",\"state\":\"" + state + "\"}");
    }
}
