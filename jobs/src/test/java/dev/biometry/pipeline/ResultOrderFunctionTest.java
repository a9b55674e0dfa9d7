package dev.biometry.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link ResultOrderFunction} in its test harness: PROCESSING always leaves before the final record of the same
 * analysis, whichever arrives first, and nothing is kept once the final record is out.
 */
class ResultOrderFunctionTest {

    private KeyedTwoInputStreamOperatorTestHarness<String, ResultRecord, ResultRecord, ResultRecord> harness;

    @BeforeEach
    void open() throws Exception {
        harness = new KeyedTwoInputStreamOperatorTestHarness<>(
                new KeyedCoProcessOperator<>(new ResultOrderFunction(Duration.ofHours(1))),
                ResultRecord::analyseId,
                ResultRecord::analyseId,
                Types.STRING);
        harness.open();
    }

    @AfterEach
    void close() throws Exception {
        harness.close();
    }

    private static ResultRecord record(String analysis, String state) {
        return new ResultRecord(
                analysis,
                "folder",
                state,
                state.equals("PROCESSING") ? "PROCESSING" : "SUCCESS",
                null,
                "{\"analyse_id\":\"" + analysis + "\",\"state\":\"" + state + "\"}");
    }

    @Test
    void inOrderRecordsPassAtOnce() throws Exception {
        harness.processElement1(new StreamRecord<>(record("a", "PROCESSING")));
        assertThat(harness.extractOutputValues())
                .extracting(ResultRecord::state)
                .containsExactly("PROCESSING");
        assertThat(harness.numKeyedStateEntries()).isEqualTo(1);
        harness.processElement2(new StreamRecord<>(record("a", "FINISHED")));
        assertThat(harness.extractOutputValues())
                .extracting(ResultRecord::state)
                .containsExactly("PROCESSING", "FINISHED");
        assertThat(harness.numKeyedStateEntries()).isZero();
    }

    @Test
    void aFinalRecordThatOvertookItsProcessingRecordIsHeldUntilThatComes() throws Exception {
        harness.processElement2(new StreamRecord<>(record("a", "FINISHED")));
        harness.processElement1(new StreamRecord<>(record("b", "PROCESSING")));
        assertThat(harness.extractOutputValues())
                .extracting(ResultRecord::analyseId)
                .containsExactly("b");

        harness.processElement1(new StreamRecord<>(record("a", "PROCESSING")));
        assertThat(harness.extractOutputValues())
                .extracting(r -> r.analyseId() + ":" + r.state())
                .containsExactly("b:PROCESSING", "a:PROCESSING", "a:FINISHED");
        // Only b's PROCESSING mark is left, waiting for its final record.
        assertThat(harness.numKeyedStateEntries()).isEqualTo(1);
        harness.processElement2(new StreamRecord<>(record("b", "FAILED")));
        assertThat(harness.numKeyedStateEntries()).isZero();
        assertThat(harness.numProcessingTimeTimers()).isZero();
    }

    @Test
    void theFinalRecordOfAnAnalysisThatNeverStartedPassesAtOnce() throws Exception {
        harness.processElement1(new StreamRecord<>(record("c", "FAILED")));
        assertThat(harness.extractOutputValues())
                .extracting(ResultRecord::state)
                .containsExactly("FAILED");
        assertThat(harness.numKeyedStateEntries()).isZero();
    }

    private static ResultRecord of(String analysis, String state, String token, long lateAfter, boolean backstop) {
        return record(analysis, state).forRequest(token, lateAfter, backstop);
    }

    @Test
    void theBackstopPassesOnlyWhenNoFinalRecordCameAndALaterFinalRecordIsDropped() throws Exception {
        harness.setProcessingTime(1_000);
        harness.processElement1(new StreamRecord<>(of("a", "PROCESSING", "t1", 0, false)));
        harness.setProcessingTime(5_000);
        harness.processElement1(new StreamRecord<>(of("a", "FAILED", "t1", 0, true)));
        assertThat(harness.extractOutputValues())
                .extracting(r -> r.state() + ":" + r.backstop())
                .containsExactly("PROCESSING:false", "FAILED:true");
        assertThat(harness.numKeyedStateEntries()).isZero();

        // The matcher's own timeout record, later than the backstop: dropped, and nothing is kept for it.
        harness.processElement2(new StreamRecord<>(of("a", "FAILED", "t1", 5_000, false)));
        assertThat(harness.extractOutputValues()).hasSize(2);
        assertThat(harness.numKeyedStateEntries()).isZero();
    }

    @Test
    void aBackstopAfterTheFinalRecordIsDropped() throws Exception {
        harness.processElement1(new StreamRecord<>(of("a", "PROCESSING", "t1", 0, false)));
        harness.processElement2(new StreamRecord<>(of("a", "FINISHED", "t1", 5_000, false)));
        harness.setProcessingTime(5_000);
        harness.processElement1(new StreamRecord<>(of("a", "FAILED", "t1", 0, true)));
        assertThat(harness.extractOutputValues())
                .extracting(ResultRecord::state)
                .containsExactly("PROCESSING", "FINISHED");
        assertThat(harness.numKeyedStateEntries()).isZero();
    }

    @Test
    void twoRequestsWithOneAnalyseIdKeepTheirOwnProgressAndASecondFinalRecordIsDropped() throws Exception {
        harness.processElement1(new StreamRecord<>(of("a", "PROCESSING", "t1", 0, false)));
        harness.processElement2(new StreamRecord<>(of("a", "FINISHED", "t2", 0, false)));
        assertThat(harness.extractOutputValues())
                .extracting(ResultRecord::token)
                .containsExactly("t1");

        harness.processElement1(new StreamRecord<>(of("a", "PROCESSING", "t2", 0, false)));
        harness.processElement2(new StreamRecord<>(of("a", "FINISHED", "t1", 0, false)));
        assertThat(harness.extractOutputValues())
                .extracting(r -> r.token() + ":" + r.state())
                .containsExactly("t1:PROCESSING", "t2:PROCESSING", "t2:FINISHED", "t1:FINISHED");
        assertThat(harness.numKeyedStateEntries()).isZero();

        harness.processElement1(new StreamRecord<>(of("b", "PROCESSING", "t3", 0, false)));
        harness.processElement2(new StreamRecord<>(of("b", "FINISHED", "t4", 0, false)));
        harness.processElement2(new StreamRecord<>(of("b", "FINISHED", "t4", 0, false)));
        assertThat(harness.extractOutputValues()).hasSize(5);
    }
}
