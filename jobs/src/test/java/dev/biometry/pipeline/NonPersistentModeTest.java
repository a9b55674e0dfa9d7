package dev.biometry.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.biometry.api.AnalysisRequest;
import dev.biometry.api.MediaRef;
import dev.biometry.api.MediaType;
import dev.biometry.api.RequestEnvelope;
import dev.biometry.config.JobConfig;
import dev.biometry.face.EmbeddingPrecision;
import dev.biometry.face.FacePolicy;
import dev.biometry.face.MediaAnalyzer;
import dev.biometry.match.Calibration;
import dev.biometry.media.MediaFetcher;
import dev.biometry.testing.TestData;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.dag.Transformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.api.operators.SimpleUdfStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.StreamOperatorFactory;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.api.transformations.OneInputTransformation;
import org.apache.flink.streaming.api.transformations.TwoInputTransformation;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * Non-persistent (instant) mode: one analysis is run through every keyed operator of the job (folder join, face
 * embedding on the real models, matcher, result ordering, folder roll-up), each in its test harness, and afterwards their keyed
 * state is inspected: nothing is left, and no timer. The option itself is checked on the operators of the built job.
 */
@org.junit.jupiter.api.Tag("integration")
class NonPersistentModeTest {

    private static final String FOLDER = "instant-folder";
    private static final long T0 = 1_000_000L;

    @Test
    void noKeyedStateOutlivesTheFinalResult() throws Exception {
        String photo = TestData.samplePhoto(3).toUri().toString();
        String other = TestData.samplePhoto(1).toUri().toString();
        MediaRef a =
                new MediaRef(FOLDER, "a", MediaType.IMAGE_FOLDER, new String[] {"photo_selfie"}, photo, null, null);
        MediaRef b =
                new MediaRef(FOLDER, "b", MediaType.IMAGE_FOLDER, new String[] {"photo_id_front"}, other, null, null);
        RequestEnvelope request = new RequestEnvelope(FOLDER, new MediaRef[] {a, b}, new AnalysisRequest[] {
            new AnalysisRequest(FOLDER, "an-1", null, null, null, null, null, T0)
        });

        // Folder join: tasks out, the folder's media forgotten at once.
        List<EmbedTask> tasks = new ArrayList<>();
        List<ResultRecord> results = new ArrayList<>();
        try (var join = new KeyedTwoInputStreamOperatorTestHarness<>(
                new KeyedCoProcessOperator<>(
                        new FolderJoinFunction(Duration.ofSeconds(60), Duration.ofHours(24), 0.85, true)),
                MediaRef::folderId,
                RequestEnvelope::folderId,
                Types.STRING)) {
            join.open();
            join.setProcessingTime(T0);
            join.processElement2(new StreamRecord<>(request));
            tasks.addAll(FolderJoinFunctionTest.tasksOf(join));
            results.addAll(FolderJoinFunctionTest.resultsOf(join));
            assertThat(tasks).hasSize(2);
            assertThat(join.numKeyedStateEntries()).isZero();
            assertThat(join.numProcessingTimeTimers()).isZero();
        }

        // Embedding with the cache off: no keyed state.
        List<EmbeddedMedia> embedded = new ArrayList<>();
        try (var embed = new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(new EmbedFunction(
                        TestData.modelsDir().toString(),
                        0.65f,
                        1,
                        FacePolicy.DEFAULT,
                        MediaAnalyzer.Limits.DEFAULTS,
                        new MediaFetcher(
                                List.of(TestData.modelsDir().resolve("samples").toString()), 10 << 20),
                        Duration.ZERO)),
                (FetchedTask f) -> f.task().media().mediaId(),
                Types.STRING)) {
            embed.open();
            for (EmbedTask t : tasks) {
                embed.processElement(new StreamRecord<>(new FetchedTask(t, null, null, null)));
            }
            embedded.addAll(embed.extractOutputValues());
            assertThat(embedded)
                    .hasSize(2)
                    .allSatisfy(e -> assertThat(e.embedding()).isNotNull());
            assertThat(embed.numKeyedStateEntries()).isZero();
        }

        // Matcher: cleared on completion.
        try (var match = new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(new MatchFunction(Calibration.DEFAULT, Duration.ofMinutes(10))),
                (EmbeddedMedia e) -> e.ticket().analyseId(),
                Types.STRING)) {
            match.open();
            match.setProcessingTime(T0);
            for (EmbeddedMedia e : embedded) {
                match.processElement(new StreamRecord<>(e));
            }
            results.addAll(match.extractOutputValues());
            assertThat(match.numKeyedStateEntries()).isZero();
            assertThat(match.numProcessingTimeTimers()).isZero();
        }
        assertThat(results).extracting(ResultRecord::state).containsExactly("PROCESSING", "FINISHED");

        // Result ordering: nothing kept once the final record is out.
        try (var order = new KeyedTwoInputStreamOperatorTestHarness<>(
                new KeyedCoProcessOperator<>(new ResultOrderFunction(Duration.ofHours(24))),
                ResultRecord::analyseId,
                ResultRecord::analyseId,
                Types.STRING)) {
            order.open();
            order.processElement1(new StreamRecord<>(results.get(0)));
            order.processElement2(new StreamRecord<>(results.get(1)));
            assertThat(order.extractOutputValues()).containsExactlyElementsOf(results);
            assertThat(order.numKeyedStateEntries()).isZero();
        }

        // Folder roll-up: forgotten once no analysis of the folder runs.
        try (var status = new KeyedTwoInputStreamOperatorTestHarness<>(
                new KeyedCoProcessOperator<>(new FolderStatusFunction(Duration.ofHours(24), true)),
                MediaRef::folderId,
                ResultRecord::folderId,
                Types.STRING)) {
            status.open();
            status.processElement1(new StreamRecord<>(a));
            status.processElement1(new StreamRecord<>(b));
            status.processElement2(new StreamRecord<>(results.get(0)));
            assertThat(status.numKeyedStateEntries()).isPositive();
            status.processElement2(new StreamRecord<>(results.get(1)));
            assertThat(status.extractOutputValues())
                    .extracting(FolderRecord::resolutionStatus)
                    .endsWith("FINISHED");
            assertThat(status.numKeyedStateEntries()).isZero();
        }
    }

    /** {@code --non-persistent} reaches the keyed operators of the job {@link BiometryJob#build} builds (not run). */
    @Test
    void theOptionReachesTheKeyedOperatorsOfTheBuiltJob() {
        for (boolean nonPersistent : new boolean[] {true, false}) {
            JobConfig config = JobConfig.fromOptions(Map.of(
                    "models",
                    TestData.modelsDir().toString(),
                    "bootstrap-servers",
                    "localhost:9092",
                    "non-persistent",
                    String.valueOf(nonPersistent)));
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(new Configuration());
            BiometryJob.build(env, config, KafkaEndpoints.of(config));

            assertThat(userFunction(env, "folder-join", FolderJoinFunction.class)
                            .nonPersistent())
                    .as("folder-join, non-persistent " + nonPersistent)
                    .isEqualTo(nonPersistent);
            assertThat(userFunction(env, "folder-status", FolderStatusFunction.class)
                            .nonPersistent())
                    .as("folder-status, non-persistent " + nonPersistent)
                    .isEqualTo(nonPersistent);
            assertThat(config.embeddingCacheTtl()).isPositive();
            assertThat(userFunction(env, "embed-faces", EmbedFunction.class).cacheTtl())
                    .as("embed-faces cache, non-persistent " + nonPersistent)
                    .isEqualTo(nonPersistent ? Duration.ZERO : config.embeddingCacheTtl());
        }
    }

    /** {@code --embedding-precision} picks the embedding model, its calibration and its own cache state. */
    @Test
    void theEmbeddingPrecisionReachesTheEmbedAndMatchOperatorsOfTheBuiltJob() {
        for (EmbeddingPrecision precision : EmbeddingPrecision.values()) {
            JobConfig config = JobConfig.fromOptions(Map.of(
                    "models",
                    TestData.modelsDir().toString(),
                    "bootstrap-servers",
                    "localhost:9092",
                    "embedding-precision",
                    precision.optionValue()));
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(new Configuration());
            BiometryJob.build(env, config, KafkaEndpoints.of(config));

            assertThat(userFunction(env, "embed-faces", EmbedFunction.class).precision())
                    .isEqualTo(precision);
            assertThat(userFunction(env, "match", MatchFunction.class).calibration())
                    .isEqualTo(precision.calibration());
        }
        assertThat(EmbeddingPrecision.INT8.calibration()).isNotEqualTo(EmbeddingPrecision.FP32.calibration());
        assertThat(JobConfig.fromOptions(Map.of()).embeddingPrecision()).isEqualTo(EmbeddingPrecision.DEFAULT);
        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> JobConfig.fromOptions(Map.of("embedding-precision", "int4")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--embedding-precision");
    }

    /** The user function of the operator called {@code name} in the topology built on {@code env}. */
    private static <F> F userFunction(StreamExecutionEnvironment env, String name, Class<F> type) {
        Set<Transformation<?>> all = new LinkedHashSet<>();
        env.getTransformations().forEach(t -> all.addAll(t.getTransitivePredecessors()));
        Transformation<?> operator = all.stream()
                .filter(t -> name.equals(t.getName()))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no operator " + name));
        StreamOperatorFactory<?> factory = operator instanceof OneInputTransformation<?, ?> one
                ? one.getOperatorFactory()
                : ((TwoInputTransformation<?, ?, ?>) operator).getOperatorFactory();
        return type.cast(((SimpleUdfStreamOperatorFactory<?>) factory).getUserFunction());
    }
}
