package dev.biometry.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.biometry.api.MediaRef;
import dev.biometry.api.MediaType;
import dev.biometry.face.FacePolicy;
import dev.biometry.face.MediaAnalyzer;
import dev.biometry.media.MediaFetcher;
import dev.biometry.testing.TestData;
import java.time.Duration;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/** The embedding operator's cache, on the real models: a known media skips inference until its TTL runs out. */
class EmbedFunctionTest {

    private static final Duration TTL = Duration.ofHours(24);

    @Test
    void aKnownMediaComesFromTheCacheUntilItsTtlExpiresThenIsEmbeddedAgain() throws Exception {
        String uri = TestData.samplePhoto(2).toUri().toString();
        MediaRef media = new MediaRef("folder-1", "m1", MediaType.IMAGE_FOLDER, new String[] {"photo_selfie"}, uri,
                null, null);
        try (var harness = embedHarness()) {
            harness.open();
            harness.setStateTtlProcessingTime(0);
            harness.processElement(new StreamRecord<>(task("an-1", media)));
            harness.setStateTtlProcessingTime(TTL.toMillis() - 1);
            harness.processElement(new StreamRecord<>(task("an-2", media)));
            // Read at TTL - 1 ms, so it lives until 2 TTL - 1 ms after that use: expire it past there.
            harness.setStateTtlProcessingTime(2 * TTL.toMillis() + 1);
            harness.processElement(new StreamRecord<>(task("an-3", media)));

            List<EmbeddedMedia> out = harness.extractOutputValues();
            assertThat(out).extracting(EmbeddedMedia::fromCache).containsExactly(false, true, false);
            assertThat(out).allSatisfy(e -> assertThat(e.embedding()).hasSize(512));
            assertThat(out.get(1).embedding()).containsExactly(out.get(0).embedding());
            assertThat(out.get(2).embedding()).containsExactly(out.get(0).embedding());
        }
    }

    @Test
    void anotherUriUnderTheSameMediaIdIsEmbeddedAgain() throws Exception {
        MediaRef first = new MediaRef("folder-1", "m1", MediaType.IMAGE_FOLDER, new String[0],
                TestData.samplePhoto(2).toUri().toString(), null, null);
        MediaRef replaced = new MediaRef("folder-1", "m1", MediaType.IMAGE_FOLDER, new String[0],
                TestData.samplePhoto(1).toUri().toString(), null, null);
        try (var harness = embedHarness()) {
            harness.open();
            harness.processElement(new StreamRecord<>(task("an-1", first)));
            harness.processElement(new StreamRecord<>(task("an-2", replaced)));

            List<EmbeddedMedia> out = harness.extractOutputValues();
            assertThat(out).extracting(EmbeddedMedia::fromCache).containsExactly(false, false);
            assertThat(out.get(1).embedding()).isNotEqualTo(out.get(0).embedding());
        }
    }

    /** The embedding operator on the real models, with a 24 h cache over the sample photos. */
    private static KeyedOneInputStreamOperatorTestHarness<String, FetchedTask, EmbeddedMedia> embedHarness()
            throws Exception {
        return new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(new EmbedFunction(TestData.modelsDir().toString(), 0.65f, 1,
                        FacePolicy.DEFAULT, MediaAnalyzer.Limits.DEFAULTS,
                        new MediaFetcher(List.of(TestData.modelsDir().resolve("samples").toString()), 10 << 20), TTL)),
                (FetchedTask f) -> f.task().media().mediaId(), Types.STRING);
    }

    private static FetchedTask task(String analysis, MediaRef media) {
        AnalysisTicket ticket = new AnalysisTicket(analysis, media.folderId(), 0.85, null, null, null, 0, 2);
        return new FetchedTask(new EmbedTask(ticket, 0, media), null, null, null);
    }
}
