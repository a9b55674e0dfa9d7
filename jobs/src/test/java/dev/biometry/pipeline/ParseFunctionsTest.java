package dev.biometry.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.biometry.api.DeadLetter;
import dev.biometry.api.RequestEnvelope;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.streaming.api.operators.ProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * The requests parse step turns every bad record into a dead letter and goes on: also records whose content would
 * trip path handling (a NUL character in a relative media URI), which must not throw inside the operator.
 */
class ParseFunctionsTest {

    @Test
    void badRequestsBecomeDeadLettersAndTheNextRequestIsParsed() throws Exception {
        String nulUri = "{\"folder_id\":\"f\",\"analyses\":[{\"type\":\"biometry\"}],"
                + "\"media\":[{\"folder_id\":\"f\",\"media_id\":\"m\",\"media_type\":\"IMAGE_FOLDER\",\"tags\":[],"
                + "\"uri\":\"photos/a\\u0000.jpg\"}]}";
        String notJson = "{not json";
        String good = "{\"folder_id\":\"f\",\"analyses\":[{\"type\":\"biometry\",\"analyse_id\":\"a-1\"}]}";

        try (var harness =
                new OneInputStreamOperatorTestHarness<>(new ProcessOperator<>(new ParseFunctions.Requests()))) {
            harness.open();
            long offset = 0;
            for (String value : List.of(nulUri, notJson, good)) {
                harness.processElement(new StreamRecord<>(new RawRecord(
                        "biometry.requests",
                        0,
                        offset++,
                        "f".getBytes(StandardCharsets.UTF_8),
                        value.getBytes(StandardCharsets.UTF_8))));
            }

            List<DeadLetter> deadLetters = new ArrayList<>();
            harness.getSideOutput(ParseFunctions.DEAD_LETTERS).forEach(r -> deadLetters.add(r.getValue()));
            assertThat(deadLetters).hasSize(2);
            assertThat(deadLetters.get(0).sourceOffset()).isZero();
            assertThat(deadLetters.get(1).sourceOffset()).isEqualTo(1);
            List<RequestEnvelope> parsed = harness.extractOutputValues();
            assertThat(parsed)
                    .singleElement()
                    .satisfies(r -> assertThat(r.analyses()[0].analyseId()).isEqualTo("a-1"));
        }
    }
}
