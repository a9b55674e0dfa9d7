package dev.biometry.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.biometry.api.DeadLetter;
import dev.biometry.api.Json;
import dev.biometry.api.MediaRef;
import dev.biometry.api.MediaType;
import dev.biometry.api.SourceRef;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.util.OutputTag;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link ClaimFunction} in its test harness on processing time: the first request of an analyse id starts, a second
 * one while it runs is refused with a dead letter, the claim and its timer are gone after the timeout plus margin,
 * when the backstop record goes out, and the id can then be used again.
 */
class ClaimFunctionTest {

    private static final long T0 = 2_000_000L;
    private static final Duration TIMEOUT = Duration.ofMinutes(10);
    private static final long RELEASE = T0 + TIMEOUT.toMillis() + 30_000;

    private KeyedOneInputStreamOperatorTestHarness<String, AnalysisStart, EmbedTask> harness;

    @BeforeEach
    void open() throws Exception {
        harness = new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(new ClaimFunction(TIMEOUT, true, "biometry.requests")),
                s -> s.ticket().analyseId(),
                Types.STRING);
        harness.open();
        harness.setProcessingTime(T0);
    }

    @AfterEach
    void close() throws Exception {
        harness.close();
    }

    @Test
    void theFirstRequestStartsAndASecondWithTheSameIdInAnotherFolderIsRefused() throws Exception {
        harness.processElement(new StreamRecord<>(processing("an-1", "folder-1", 11)));

        List<EmbedTask> tasks = harness.extractOutputValues();
        assertThat(tasks).extracting(EmbedTask::index).containsExactly(0, 1);
        assertThat(tasks).extracting(t -> t.ticket().claimedAtMillis()).containsOnly(T0);
        assertThat(tasks).extracting(t -> t.ticket().backstopAtMillis()).containsOnly(RELEASE);
        assertThat(tasks).extracting(t -> t.ticket().token()).containsOnly("token-11");
        assertThat(results()).singleElement().satisfies(r -> {
            assertThat(r.state()).isEqualTo("PROCESSING");
            assertThat(r.token()).isEqualTo("token-11");
        });
        assertThat(harness.numProcessingTimeTimers()).isEqualTo(1);

        harness.setProcessingTime(T0 + 1_000);
        harness.processElement(new StreamRecord<>(processing("an-1", "folder-2", 12)));

        assertThat(harness.extractOutputValues())
                .as("nothing of the second request starts")
                .hasSize(2);
        assertThat(results()).hasSize(1);
        DeadLetter refused = deadLetters().get(0);
        assertThat(refused.errorCode()).isEqualTo(4);
        assertThat(refused.errorMessage())
                .startsWith("INVALID VALUE: analyse_id an-1 is already running")
                .contains("folder-1");
        assertThat(refused.details()).isEqualTo("analyse_id");
        assertThat(refused.sourceTopic()).isEqualTo("biometry.requests");
        assertThat(refused.sourceOffset()).isEqualTo(12);
        JsonNode payload = Json.mapper().readTree(refused.payload());
        assertThat(payload.get("folder_id").asText()).isEqualTo("folder-2");

        // A failed-at-join request with the same id is refused too: it would look like the first one's final record.
        harness.processElement(new StreamRecord<>(failed("an-1", "folder-3", 13)));
        assertThat(deadLetters()).hasSize(2);
        assertThat(results()).hasSize(1);
    }

    @Test
    void atTheEndOfTheClaimTheBackstopGoesOutAndNothingIsLeftSoTheIdCanBeUsedAgain() throws Exception {
        harness.processElement(new StreamRecord<>(processing("an-1", "folder-1", 11)));
        harness.setProcessingTime(RELEASE - 1);
        assertThat(results()).hasSize(1);

        harness.setProcessingTime(RELEASE);
        List<ResultRecord> results = results();
        assertThat(results).hasSize(2);
        ResultRecord backstop = results.get(1);
        assertThat(backstop.backstop()).isTrue();
        assertThat(backstop.token()).isEqualTo("token-11");
        assertThat(backstop.state()).isEqualTo("FAILED");
        JsonNode json = Json.mapper().readTree(backstop.json());
        assertThat(json.get("analyse_id").asText()).isEqualTo("an-1");
        assertThat(json.get("error_code").asInt()).isZero();
        assertThat(json.get("error_message").asText()).contains("timed out");
        assertThat(harness.numKeyedStateEntries()).isZero();
        assertThat(harness.numProcessingTimeTimers()).isZero();

        harness.processElement(new StreamRecord<>(processing("an-1", "folder-2", 12)));
        assertThat(deadLetters()).isEmpty();
        assertThat(harness.extractOutputValues()).hasSize(4);
    }

    @Test
    void aRequestThatCouldNotStartPassesWithoutAClaim() throws Exception {
        harness.processElement(new StreamRecord<>(failed("an-2", "folder-1", 11)));

        assertThat(results()).singleElement().satisfies(r -> {
            assertThat(r.state()).isEqualTo("FAILED");
            assertThat(r.backstop()).isFalse();
        });
        assertThat(harness.extractOutputValues()).isEmpty();
        assertThat(harness.numKeyedStateEntries()).isZero();
        assertThat(harness.numProcessingTimeTimers()).isZero();
    }

    @Test
    void withoutBackstopsTheClaimEndsSilently() throws Exception {
        try (var batch = new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(new ClaimFunction(TIMEOUT, false, "biometry.requests")),
                (AnalysisStart s) -> s.ticket().analyseId(),
                Types.STRING)) {
            batch.open();
            batch.setProcessingTime(T0);
            batch.processElement(new StreamRecord<>(processing("an-1", "folder-1", 11)));
            assertThat(batch.extractOutputValues())
                    .extracting(t -> t.ticket().backstopAtMillis())
                    .containsOnly(0L);
            batch.setProcessingTime(RELEASE);
            assertThat(batch.getSideOutput(ClaimFunction.RESULTS)).hasSize(1);
            assertThat(batch.numKeyedStateEntries()).isZero();
        }
    }

    // ---- helpers

    private List<ResultRecord> results() {
        return sideOutput(ClaimFunction.RESULTS);
    }

    private List<DeadLetter> deadLetters() {
        return sideOutput(ClaimFunction.DEAD_LETTERS);
    }

    private <T> List<T> sideOutput(OutputTag<T> tag) {
        List<T> out = new ArrayList<>();
        var side = harness.getSideOutput(tag);
        if (side != null) {
            side.forEach(r -> out.add(r.getValue()));
        }
        return out;
    }

    private static AnalysisTicket ticket(String analyseId, String folder, long offset, int mediaCount) {
        return new AnalysisTicket(
                analyseId, folder, 0.85, null, null, null, T0 - 10, mediaCount, "token-" + offset, 0L, 0L);
    }

    static AnalysisStart processing(String analyseId, String folder, long offset) {
        MediaRef a = new MediaRef(folder, "a", MediaType.IMAGE_FOLDER, new String[0], "file:///a.jpg", null, null);
        MediaRef b = new MediaRef(folder, "b", MediaType.IMAGE_FOLDER, new String[0], "file:///b.jpg", null, null);
        String json = "{\"analyse_id\":\"" + analyseId + "\",\"state\":\"PROCESSING\"}";
        return new AnalysisStart(
                ticket(analyseId, folder, offset, 2),
                new MediaRef[] {a, b},
                new ResultRecord(analyseId, folder, "PROCESSING", "PROCESSING", null, json),
                new SourceRef("biometry.requests", 0, offset));
    }

    static AnalysisStart failed(String analyseId, String folder, long offset) {
        String json = "{\"analyse_id\":\"" + analyseId + "\",\"state\":\"FAILED\"}";
        return new AnalysisStart(
                ticket(analyseId, folder, offset, 0),
                new MediaRef[0],
                new ResultRecord(analyseId, folder, "FAILED", "FAILED", null, json),
                new SourceRef("biometry.requests", 0, offset));
    }
}
