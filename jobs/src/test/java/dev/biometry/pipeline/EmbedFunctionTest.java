package dev.biometry.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.biometry.api.MediaRef;
import dev.biometry.api.MediaType;
import dev.biometry.config.JobConfig;
import dev.biometry.face.EmbeddingPrecision;
import dev.biometry.face.FacePolicy;
import dev.biometry.face.MediaAnalyzer;
import dev.biometry.match.Calibration;
import dev.biometry.match.PairwiseMatch;
import dev.biometry.media.MediaFetcher;
import dev.biometry.testing.TestData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedding operator's cache, on the real models: a known media (same URI, same content) skips inference until
 * its TTL, counted from the write, runs out; new content under the same media id and URI is embedded again.
 */
@org.junit.jupiter.api.Tag("integration")
class EmbedFunctionTest {

    private static final Duration TTL = Duration.ofHours(24);

    @Test
    void aKnownMediaComesFromTheCacheUntilItsTtlCountedFromTheWriteExpiresThenIsEmbeddedAgain() throws Exception {
        String uri = TestData.samplePhoto(2).toUri().toString();
        MediaRef media =
                new MediaRef("folder-1", "m1", MediaType.IMAGE_FOLDER, new String[] {"photo_selfie"}, uri, null, null);
        try (var harness = embedHarness()) {
            harness.open();
            harness.setProcessingTime(0);
            harness.processElement(new StreamRecord<>(task("an-1", media)));
            harness.setProcessingTime(TTL.toMillis() - 1);
            harness.processElement(new StreamRecord<>(task("an-2", media)));
            // Written at 0 and read at TTL - 1 ms: the read does not extend it, so it is gone just after TTL.
            harness.setProcessingTime(TTL.toMillis() + 1);
            harness.processElement(new StreamRecord<>(task("an-3", media)));
            // Written again at TTL + 1 ms: a hit until 2 TTL.
            harness.setProcessingTime(2 * TTL.toMillis());
            harness.processElement(new StreamRecord<>(task("an-4", media)));

            List<EmbeddedMedia> out = harness.extractOutputValues();
            assertThat(out).extracting(EmbeddedMedia::fromCache).containsExactly(false, true, false, true);
            assertThat(out).allSatisfy(e -> assertThat(e.embedding()).hasSize(512));
            assertThat(out)
                    .allSatisfy(e ->
                            assertThat(e.embedding()).containsExactly(out.get(0).embedding()));
        }
    }

    @Test
    void aFileReplacedUnderTheSameMediaIdAndUriIsEmbeddedAgain(@TempDir Path root) throws Exception {
        Path file = root.resolve("selfie.jpg");
        Files.copy(TestData.samplePhoto(2), file);
        MediaRef media = new MediaRef(
                "folder-1",
                "m1",
                MediaType.IMAGE_FOLDER,
                new String[0],
                file.toUri().toString(),
                null,
                null);
        try (var harness = embedHarness(root)) {
            harness.open();
            harness.processElement(new StreamRecord<>(task("an-1", media)));
            harness.processElement(new StreamRecord<>(task("an-2", media)));
            Files.copy(TestData.samplePhoto(1), file, StandardCopyOption.REPLACE_EXISTING);
            harness.processElement(new StreamRecord<>(task("an-3", media)));
            harness.processElement(new StreamRecord<>(task("an-4", media)));

            List<EmbeddedMedia> out = harness.extractOutputValues();
            assertThat(out).extracting(EmbeddedMedia::fromCache).containsExactly(false, true, false, true);
            assertThat(out.get(1).embedding()).containsExactly(out.get(0).embedding());
            assertThat(out.get(3).embedding()).containsExactly(out.get(2).embedding());
            assertDifferentPeople(out.get(0).embedding(), out.get(2).embedding());
        }
    }

    @Test
    void changedHttpContentUnderTheSameUriIsEmbeddedAgainAndAFailedDownloadIsNeverServedFromTheCache()
            throws Exception {
        MediaRef media = new MediaRef(
                "folder-1",
                "m1",
                MediaType.IMAGE_FOLDER,
                new String[0],
                "https://media.example.com/selfie.jpg",
                null,
                null);
        byte[] first = Files.readAllBytes(TestData.samplePhoto(2));
        byte[] second = Files.readAllBytes(TestData.samplePhoto(1));
        try (var harness = embedHarness()) {
            harness.open();
            harness.processElement(new StreamRecord<>(downloaded("an-1", media, first)));
            harness.processElement(new StreamRecord<>(downloaded("an-2", media, first)));
            harness.processElement(new StreamRecord<>(downloaded("an-3", media, second)));
            harness.processElement(new StreamRecord<>(
                    new FetchedTask(task("an-4", media).task(), null, 11, "media m1: download timed out")));

            List<EmbeddedMedia> out = harness.extractOutputValues();
            assertThat(out).extracting(EmbeddedMedia::fromCache).containsExactly(false, true, false, false);
            assertThat(out.get(1).embedding()).containsExactly(out.get(0).embedding());
            assertDifferentPeople(out.get(0).embedding(), out.get(2).embedding());
            assertThat(out.get(3).fatal()).isTrue();
            assertThat(out.get(3).error().code()).isEqualTo(11);
        }
    }

    /** The two embeddings give a DECLINED verdict at the default threshold. */
    private static void assertDifferentPeople(float[] a, float[] b) {
        assertThat(Calibration.DEFAULT.confidence(PairwiseMatch.cosine(a, b))).isLessThan(0.85);
    }

    @Test
    void anotherUriUnderTheSameMediaIdIsEmbeddedAgain() throws Exception {
        MediaRef first = new MediaRef(
                "folder-1",
                "m1",
                MediaType.IMAGE_FOLDER,
                new String[0],
                TestData.samplePhoto(2).toUri().toString(),
                null,
                null);
        MediaRef replaced = new MediaRef(
                "folder-1",
                "m1",
                MediaType.IMAGE_FOLDER,
                new String[0],
                TestData.samplePhoto(1).toUri().toString(),
                null,
                null);
        try (var harness = embedHarness()) {
            harness.open();
            harness.processElement(new StreamRecord<>(task("an-1", first)));
            harness.processElement(new StreamRecord<>(task("an-2", replaced)));

            List<EmbeddedMedia> out = harness.extractOutputValues();
            assertThat(out).extracting(EmbeddedMedia::fromCache).containsExactly(false, false);
            assertThat(out.get(1).embedding()).isNotEqualTo(out.get(0).embedding());
        }
    }

    @Test
    void theCacheHoldsAtMostItsSizeAndNothingOfItIsCheckpointed() throws Exception {
        String uri = TestData.samplePhoto(2).toUri().toString();
        List<MediaRef> media = new java.util.ArrayList<>();
        for (int i = 1; i <= 5; i++) {
            media.add(new MediaRef(
                    "folder-1", "m" + i, MediaType.IMAGE_FOLDER, new String[] {"photo_selfie"}, uri, null, null));
        }
        try (var harness = embedHarness(TestData.modelsDir().resolve("samples"), 2)) {
            harness.open();
            for (int round = 0; round < 2; round++) {
                for (MediaRef m : media) {
                    harness.processElement(new StreamRecord<>(task("an-" + round + m.mediaId(), m)));
                }
            }
            List<EmbeddedMedia> out = harness.extractOutputValues();
            assertThat(out.subList(0, 5)).noneMatch(EmbeddedMedia::fromCache);
            assertThat(out.subList(5, 10).stream().filter(EmbeddedMedia::fromCache))
                    .as("five media met again with room for two")
                    .hasSizeLessThanOrEqualTo(2);
            // The cache is in the task's memory: a checkpoint carries no keyed state of this operator.
            assertThat(harness.numKeyedStateEntries()).isZero();
        }
    }

    /** The embedding operator on the real models, with a 24 h cache over the sample photos. */
    private static KeyedOneInputStreamOperatorTestHarness<String, FetchedTask, EmbeddedMedia> embedHarness()
            throws Exception {
        return embedHarness(TestData.modelsDir().resolve("samples"));
    }

    /** The same over the files under {@code root}. */
    private static KeyedOneInputStreamOperatorTestHarness<String, FetchedTask, EmbeddedMedia> embedHarness(Path root)
            throws Exception {
        return embedHarness(root, JobConfig.EMBEDDING_CACHE_SIZE.defaultValue());
    }

    /** The same with a cache of at most {@code cacheEntries} media. */
    private static KeyedOneInputStreamOperatorTestHarness<String, FetchedTask, EmbeddedMedia> embedHarness(
            Path root, int cacheEntries) throws Exception {
        return new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(new EmbedFunction(
                        TestData.modelsDir().toString(),
                        0.65f,
                        1,
                        FacePolicy.DEFAULT,
                        MediaAnalyzer.Limits.DEFAULTS,
                        new MediaFetcher(List.of(root.toString()), 10 << 20),
                        TTL,
                        cacheEntries,
                        EmbeddingPrecision.DEFAULT)),
                (FetchedTask f) -> f.task().media().mediaId(),
                Types.STRING);
    }

    private static FetchedTask downloaded(String analysis, MediaRef media, byte[] bytes) {
        return new FetchedTask(task(analysis, media).task(), bytes, null, null);
    }

    private static FetchedTask task(String analysis, MediaRef media) {
        AnalysisTicket ticket = new AnalysisTicket(analysis, media.folderId(), 0.85, null, null, null, 0, 2);
        return new FetchedTask(new EmbedTask(ticket, 0, media), null, null, null);
    }
}
