package dev.biometry.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import com.fasterxml.jackson.databind.JsonNode;
import dev.biometry.api.AnalysisRequest;
import dev.biometry.api.Json;
import dev.biometry.api.MediaRef;
import dev.biometry.api.MediaType;
import dev.biometry.api.RequestEnvelope;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link FolderJoinFunction} in an operator test harness on processing time: what it emits, and that a started or
 * expired analysis leaves neither a pending entry nor a timer behind (only the folder's media stay, by design).
 */
class FolderJoinFunctionTest {

    private static final long T0 = 1_000_000L;
    private static final long WAIT_MS = 60_000L;
    private static final String FOLDER = "folder-1";

    private KeyedTwoInputStreamOperatorTestHarness<String, MediaRef, RequestEnvelope, AnalysisStart> harness;

    @BeforeEach
    void openHarness() throws Exception {
        harness = new KeyedTwoInputStreamOperatorTestHarness<>(
                new KeyedCoProcessOperator<>(
                        new FolderJoinFunction(Duration.ofSeconds(60), Duration.ofHours(24), 0.85, false)),
                MediaRef::folderId,
                RequestEnvelope::folderId,
                Types.STRING);
        harness.open();
        harness.setProcessingTime(T0);
    }

    @AfterEach
    void closeHarness() throws Exception {
        harness.close();
    }

    @Test
    void inlineMediaStartTheAnalysisAtOnceAndLeaveNoPendingStateOrTimer() throws Exception {
        harness.processElement2(
                new StreamRecord<>(envelope(new MediaRef[] {photo("a"), photo("b")}, request("an-1", null))));

        List<EmbedTask> tasks = tasks();
        assertThat(tasks).hasSize(2);
        assertThat(tasks).extracting(EmbedTask::index).containsExactly(0, 1);
        assertThat(tasks).extracting(t -> t.media().mediaId()).containsExactly("a", "b");
        assertThat(tasks).extracting(EmbedTask::ticket).allSatisfy(t -> {
            assertThat(t).isEqualTo(tasks.get(0).ticket());
            assertThat(t.analyseId()).isEqualTo("an-1");
            assertThat(t.folderId()).isEqualTo(FOLDER);
            assertThat(t.mediaCount()).isEqualTo(2);
            assertThat(t.identity().threshold()).isEqualTo(0.85);
            assertThat(t.identity().timeCreatedMillis()).isEqualTo(T0 - 5);
        });

        List<ResultRecord> results = results();
        assertThat(results).hasSize(1);
        ResultRecord processing = results.get(0);
        assertThat(processing.analyseId()).isEqualTo("an-1");
        assertThat(processing.folderId()).isEqualTo(FOLDER);
        assertThat(processing.state()).isEqualTo("PROCESSING");
        assertThat(processing.isFinal()).isFalse();
        JsonNode json = Json.mapper().readTree(processing.json());
        assertThat(json.get("state").asText()).isEqualTo("PROCESSING");
        assertThat(json.at("/params/threshold").asDouble()).isEqualTo(0.85);
        assertThat(json.get("source_media"))
                .extracting(m -> m.get("media_id").asText())
                .containsExactly("a", "b");
        assertThat(json.at("/meta_data/case").asText()).isEqualTo("an-1");

        assertThat(harness.numProcessingTimeTimers()).isZero();
        assertThat(pending(FOLDER)).isEmpty();
        assertThat(mediaState(FOLDER)).containsOnlyKeys("a", "b");
    }

    @Test
    void aRequestWaitsForANamedMediaAndStartsWhenItArrivesOnTheMediaInput() throws Exception {
        harness.processElement2(new StreamRecord<>(
                envelope(new MediaRef[] {photo("a")}, request("an-1", new String[] {"a", "late"}))));

        assertThat(tasks()).isEmpty();
        assertThat(results()).isEmpty();
        assertThat(harness.numProcessingTimeTimers()).isEqualTo(1);
        assertThat(pending(FOLDER)).containsOnlyKeys("an-1");
        assertThat(pending(FOLDER).get("an-1").deadlineMillis()).isEqualTo(T0 + WAIT_MS);

        harness.setProcessingTime(T0 + 30_000);
        assertThat(results()).isEmpty();
        harness.processElement1(new StreamRecord<>(photo("late")));

        assertThat(tasks()).extracting(t -> t.media().mediaId()).containsExactly("a", "late");
        assertThat(tasks()).extracting(t -> t.ticket().mediaCount()).containsOnly(2);
        assertThat(results()).singleElement().extracting(ResultRecord::state).isEqualTo("PROCESSING");
        assertThat(harness.numProcessingTimeTimers()).isZero();
        assertThat(pending(FOLDER)).isEmpty();
        assertThat(mediaState(FOLDER)).containsOnlyKeys("a", "late");

        // The deleted deadline fires nothing.
        harness.setProcessingTime(T0 + 2 * WAIT_MS);
        assertThat(results()).hasSize(1);
    }

    @Test
    void aWaitingRequestAlsoStartsWhenItsMediaComeInlineWithALaterRequest() throws Exception {
        harness.processElement2(new StreamRecord<>(
                envelope(new MediaRef[] {photo("a")}, request("an-1", new String[] {"a", "late"}))));
        harness.processElement2(new StreamRecord<>(envelope(new MediaRef[] {photo("late")})));

        assertThat(tasks()).extracting(t -> t.media().mediaId()).containsExactly("a", "late");
        assertThat(results()).singleElement().extracting(ResultRecord::state).isEqualTo("PROCESSING");
        assertThat(harness.numProcessingTimeTimers()).isZero();
        assertThat(pending(FOLDER)).isEmpty();
    }

    @Test
    void aNamedMediaThatNeverArrivesFailsTheAnalysisWithCode10AfterTheWait() throws Exception {
        harness.processElement2(new StreamRecord<>(
                envelope(new MediaRef[] {photo("a")}, request("an-1", new String[] {"a", "ghost"}))));

        harness.setProcessingTime(T0 + WAIT_MS - 1);
        assertThat(results()).isEmpty();
        assertThat(harness.numProcessingTimeTimers()).isEqualTo(1);

        harness.setProcessingTime(T0 + WAIT_MS);
        assertThat(tasks()).isEmpty();
        List<ResultRecord> results = results();
        assertThat(results).hasSize(1);
        ResultRecord failed = results.get(0);
        assertThat(failed.state()).isEqualTo("FAILED");
        assertThat(failed.resolutionStatus()).isEqualTo("FAILED");
        assertThat(failed.isFinal()).isTrue();
        JsonNode json = Json.mapper().readTree(failed.json());
        assertThat(json.get("analyse_id").asText()).isEqualTo("an-1");
        assertThat(json.get("error_code").asInt()).isEqualTo(10);
        assertThat(json.get("error_message").asText())
                .contains("ghost")
                .contains(FOLDER)
                .doesNotContain("[a");
        assertThat(json.get("source_media"))
                .extracting(m -> m.get("media_id").asText())
                .containsExactly("a");
        assertThat(json.get("time_updated").decimalValue()).isEqualByComparingTo("1060.000");

        assertThat(harness.numProcessingTimeTimers()).isZero();
        assertThat(pending(FOLDER)).isEmpty();
        assertThat(mediaState(FOLDER)).containsOnlyKeys("a");

        // A media arriving after the deadline starts nothing.
        harness.processElement1(new StreamRecord<>(photo("ghost")));
        assertThat(tasks()).isEmpty();
        assertThat(results()).hasSize(1);
    }

    @Test
    void analysesSharingADeadlineKeepTheTimerUntilTheLastOfThemIsDone() throws Exception {
        harness.processElement2(new StreamRecord<>(envelope(
                new MediaRef[] {photo("a")},
                request("an-x", new String[] {"a", "x"}),
                request("an-y", new String[] {"a", "y"}))));
        assertThat(pending(FOLDER)).containsOnlyKeys("an-x", "an-y");
        assertThat(pending(FOLDER).values())
                .extracting(PendingAnalysis::deadlineMillis)
                .containsOnly(T0 + WAIT_MS);
        assertThat(harness.numProcessingTimeTimers()).isEqualTo(1);

        harness.setProcessingTime(T0 + 10_000);
        harness.processElement1(new StreamRecord<>(photo("x")));
        assertThat(tasks())
                .extracting(t -> t.ticket().analyseId())
                .containsOnly("an-x")
                .hasSize(2);
        assertThat(results())
                .extracting(ResultRecord::analyseId, ResultRecord::state)
                .containsExactly(tuple("an-x", "PROCESSING"));
        assertThat(pending(FOLDER)).containsOnlyKeys("an-y");
        assertThat(harness.numProcessingTimeTimers())
                .as("the shared deadline still guards an-y")
                .isEqualTo(1);

        harness.setProcessingTime(T0 + WAIT_MS);
        List<ResultRecord> results = results();
        assertThat(results).hasSize(2);
        ResultRecord expired = results.get(1);
        assertThat(expired.analyseId()).isEqualTo("an-y");
        assertThat(expired.state()).isEqualTo("FAILED");
        JsonNode json = Json.mapper().readTree(expired.json());
        assertThat(json.get("error_code").asInt()).isEqualTo(10);
        assertThat(json.get("error_message").asText()).contains("[y]");
        assertThat(tasks()).hasSize(2);
        assertThat(harness.numProcessingTimeTimers()).isZero();
        assertThat(pending(FOLDER)).isEmpty();
    }

    @Test
    void analysesSharingADeadlineDeleteTheTimerWhenBothStart() throws Exception {
        harness.processElement2(new StreamRecord<>(envelope(
                new MediaRef[] {photo("a")},
                request("an-x", new String[] {"a", "x"}),
                request("an-y", new String[] {"a", "y"}))));

        harness.processElement1(new StreamRecord<>(photo("y")));
        assertThat(harness.numProcessingTimeTimers()).isEqualTo(1);
        harness.processElement1(new StreamRecord<>(photo("x")));

        assertThat(results()).extracting(ResultRecord::analyseId).containsExactly("an-y", "an-x");
        assertThat(results()).extracting(ResultRecord::state).containsOnly("PROCESSING");
        assertThat(tasks()).hasSize(4);
        assertThat(harness.numProcessingTimeTimers()).isZero();
        assertThat(pending(FOLDER)).isEmpty();

        harness.setProcessingTime(T0 + 2 * WAIT_MS);
        assertThat(results()).hasSize(2);
    }

    @Test
    void fewerThanTwoEligibleMediaFailWithCode4AndLeaveOnlyTheMedia() throws Exception {
        MediaRef back = media("back", MediaType.IMAGE_FOLDER, FOLDER, "photo_id", MediaRef.TAG_PHOTO_ID_BACK);
        harness.processElement2(new StreamRecord<>(envelope(new MediaRef[] {photo("a"), back}, request("an-1", null))));

        assertThat(tasks()).isEmpty();
        List<ResultRecord> results = results();
        assertThat(results).hasSize(1);
        assertThat(results.get(0).state()).isEqualTo("FAILED");
        JsonNode json = Json.mapper().readTree(results.get(0).json());
        assertThat(json.get("error_code").asInt()).isEqualTo(4);
        assertThat(json.get("error_message").asText())
                .contains("at least two eligible media")
                .contains("has 1")
                .contains("1 tagged photo_id_back ignored");
        assertThat(json.get("source_media"))
                .extracting(m -> m.get("media_id").asText())
                .containsExactly("a");

        assertThat(harness.numProcessingTimeTimers()).isZero();
        assertThat(pending(FOLDER)).isEmpty();
        assertThat(mediaState(FOLDER)).containsOnlyKeys("a", "back");
        // The folder's media map and its arrival counter: nothing else is kept for the folder.
        assertThat(harness.numKeyedStateEntries()).isEqualTo(2);
    }

    @Test
    void requestsWithoutSourceMediaTakeEveryMediaOfTheFolderInArrivalOrder() throws Exception {
        harness.processElement1(new StreamRecord<>(media("other", MediaType.IMAGE_FOLDER, "other-folder")));
        for (String id : new String[] {"c", "a", "b"}) {
            harness.processElement1(new StreamRecord<>(photo(id)));
        }
        harness.processElement1(new StreamRecord<>(photo("c"))); // seen again: keeps its first place
        harness.processElement2(new StreamRecord<>(envelope(new MediaRef[] {photo("d")}, request("an-1", null))));

        List<EmbedTask> tasks = tasks();
        assertThat(tasks).extracting(t -> t.media().mediaId()).containsExactly("c", "a", "b", "d");
        assertThat(tasks).extracting(EmbedTask::index).containsExactly(0, 1, 2, 3);
        assertThat(tasks).extracting(t -> t.ticket().mediaCount()).containsOnly(4);
        JsonNode json = Json.mapper().readTree(results().get(0).json());
        assertThat(json.get("source_media"))
                .extracting(m -> m.get("media_id").asText())
                .containsExactly("c", "a", "b", "d");
        assertThat(harness.numProcessingTimeTimers()).isZero();
        assertThat(pending(FOLDER)).isEmpty();
        assertThat(mediaState("other-folder")).containsOnlyKeys("other");
    }

    @Test
    void sourceMediaKeepTheirRequestedOrderAndSkipPhotoIdBack() throws Exception {
        MediaRef back = media("back", MediaType.IMAGE_FOLDER, FOLDER, MediaRef.TAG_PHOTO_ID_BACK);
        harness.processElement2(new StreamRecord<>(envelope(
                new MediaRef[] {photo("a"), photo("b"), photo("c"), back},
                request("an-1", new String[] {"c", "back", "a"}))));

        assertThat(tasks()).extracting(t -> t.media().mediaId()).containsExactly("c", "a");
        assertThat(tasks()).extracting(EmbedTask::index).containsExactly(0, 1);
        assertThat(tasks()).extracting(t -> t.ticket().mediaCount()).containsOnly(2);
        assertThat(harness.numProcessingTimeTimers()).isZero();
        assertThat(pending(FOLDER)).isEmpty();
    }

    /**
     * Regression: The arrival counter ("media-sequence") and each media entry expire separately
     * ({@code OnCreateAndWrite}, 24 h): a media seen again refreshes its own entry but not the counter, so once the
     * counter has expired new media restart at 0 and share numbers with media still held; "every media in arrival
     * order" then puts later media before earlier ones.
     */
    @Test
    void arrivalOrderSurvivesTheArrivalCounterExpiringBeforeTheMedia() throws Exception {
        long hour = Duration.ofHours(1).toMillis();
        harness.setStateTtlProcessingTime(0);
        harness.processElement1(new StreamRecord<>(photo("c")));
        harness.processElement1(new StreamRecord<>(photo("a")));
        harness.setStateTtlProcessingTime(23 * hour); // both seen again: their entries live on
        harness.processElement1(new StreamRecord<>(photo("c")));
        harness.processElement1(new StreamRecord<>(photo("a")));
        harness.setStateTtlProcessingTime(25 * hour);
        harness.processElement1(new StreamRecord<>(photo("b")));
        harness.processElement1(new StreamRecord<>(photo("d")));
        harness.processElement2(new StreamRecord<>(envelope(new MediaRef[0], request("an-1", null))));

        assertThat(tasks()).extracting(t -> t.media().mediaId()).containsExactly("c", "a", "b", "d");
    }

    /**
     * Regression: with a job threshold of 0.7, a request giving only threshold_min 0.8 passed the parser (which does
     * not know --threshold) and made the matcher throw, failing the task on every replay. It now FAILS at the join
     * with error 4 and starts nothing; a request giving its own threshold is checked against that one.
     */
    @Test
    void thresholdMinAboveTheJobsThresholdFailsWithCode4InsteadOfStarting() throws Exception {
        try (KeyedTwoInputStreamOperatorTestHarness<String, MediaRef, RequestEnvelope, AnalysisStart> lowThreshold =
                new KeyedTwoInputStreamOperatorTestHarness<>(
                        new KeyedCoProcessOperator<>(
                                new FolderJoinFunction(Duration.ofSeconds(60), Duration.ofHours(24), 0.7, false)),
                        MediaRef::folderId,
                        RequestEnvelope::folderId,
                        Types.STRING)) {
            lowThreshold.open();
            lowThreshold.setProcessingTime(T0);
            lowThreshold.processElement2(new StreamRecord<>(envelope(
                    new MediaRef[] {photo("a"), photo("b")},
                    request("an-bad", null, null, 0.8),
                    request("an-own", null, 0.9, 0.8),
                    request("an-default", new String[] {"a", "later"}, null, 0.6))));

            List<ResultRecord> results = resultsOf(lowThreshold);
            assertThat(results)
                    .extracting(ResultRecord::analyseId, ResultRecord::state)
                    .containsExactly(tuple("an-bad", "FAILED"), tuple("an-own", "PROCESSING"));
            JsonNode failed = Json.mapper().readTree(results.get(0).json());
            assertThat(failed.get("error_code").asInt()).isEqualTo(4);
            assertThat(failed.get("error_message").asText())
                    .isEqualTo("params.threshold_min (0.8) must not exceed the threshold (0.7, the job's default)");
            assertThat(failed.at("/params/threshold").asDouble()).isEqualTo(0.7);
            assertThat(failed.at("/params/threshold_min").asDouble()).isEqualTo(0.8);
            assertThat(failed.at("/meta_data/case").asText()).isEqualTo("an-bad");
            assertThat(failed.get("source_media"))
                    .extracting(m -> m.get("media_id").asText())
                    .containsExactly("a", "b");

            List<EmbedTask> tasks = tasksOf(lowThreshold);
            assertThat(tasks)
                    .extracting(t -> t.ticket().analyseId())
                    .containsOnly("an-own")
                    .hasSize(2);
            assertThat(tasks.get(0).ticket().identity().threshold()).isEqualTo(0.9);
            assertThat(tasks.get(0).ticket().identity().thresholdMin()).isEqualTo(0.8);

            // A valid threshold_min under the job's threshold waits for its media like any request.
            lowThreshold.getOperator().setCurrentKey(FOLDER);
            MapState<String, PendingAnalysis> waiting = lowThreshold
                    .getOperator()
                    .getKeyedStateStore()
                    .getMapState(new MapStateDescriptor<>(
                            "pending", Types.STRING, TypeInformation.of(PendingAnalysis.class)));
            assertThat(waiting.values())
                    .extracting(p -> p.request().analyseId())
                    .containsExactly("an-default");
            lowThreshold.processElement1(new StreamRecord<>(photo("later")));
            EmbedTask started = tasksOf(lowThreshold).get(2);
            assertThat(started.ticket().analyseId()).isEqualTo("an-default");
            assertThat(started.ticket().identity().threshold())
                    .as("the job's threshold")
                    .isEqualTo(0.7);
            assertThat(started.ticket().identity().thresholdMin()).isEqualTo(0.6);
        }
    }

    /**
     * Non-persistent mode keeps media that no request has asked for yet (one may still come); the folder TTL is the
     * backstop: past it, nothing of the folder is left and a late request finds no media.
     */
    @Test
    void nonPersistentMediaWithoutARequestAreGoneAfterTheFolderTtl() throws Exception {
        Duration folderTtl = Duration.ofHours(1);
        harness.close();
        harness = new KeyedTwoInputStreamOperatorTestHarness<>(
                new KeyedCoProcessOperator<>(new FolderJoinFunction(Duration.ofSeconds(60), folderTtl, 0.85, true)),
                MediaRef::folderId,
                RequestEnvelope::folderId,
                Types.STRING);
        harness.open();
        harness.setProcessingTime(T0);
        harness.setStateTtlProcessingTime(0);

        harness.processElement1(new StreamRecord<>(photo("a")));
        harness.processElement1(new StreamRecord<>(photo("b")));
        assertThat(harness.numKeyedStateEntries()).isEqualTo(2); // the media map and the arrival counter
        harness.setStateTtlProcessingTime(folderTtl.toMillis() - 1);
        assertThat(mediaState(FOLDER)).containsOnlyKeys("a", "b");

        harness.setStateTtlProcessingTime(folderTtl.toMillis() + 1);
        // The TTL's incremental clean-up removes expired entries a few at a time on each state access: media of
        // other folders keep the states busy until it has passed the expired folder, whose 2 entries are then gone.
        int others = 0;
        while (harness.numKeyedStateEntries() != 2 * others && others < 50) {
            others++;
            harness.processElement1(
                    new StreamRecord<>(media("x", MediaType.IMAGE_FOLDER, "other-" + others, "photo_selfie")));
        }
        assertThat(harness.numKeyedStateEntries())
                .as("entries after %d other folders", others)
                .isEqualTo(2 * others);
        assertThat(mediaState(FOLDER)).isEmpty();
        harness.getOperator().setCurrentKey(FOLDER);
        assertThat(harness.getOperator()
                        .getKeyedStateStore()
                        .getState(new ValueStateDescriptor<>("media-sequence", Types.LONG))
                        .value())
                .isNull();
        assertThat(harness.numProcessingTimeTimers()).isZero();

        harness.processElement2(new StreamRecord<>(envelope(new MediaRef[0], request("an-late", null))));
        assertThat(tasks()).isEmpty();
        JsonNode late = Json.mapper().readTree(results().get(0).json());
        assertThat(late.get("error_code").asInt()).isEqualTo(4);
        assertThat(late.get("error_message").asText()).contains("has 0");
    }

    /** Two waiting requests with one analyse id in one folder keep their own pending entries (the claim refuses one). */
    @Test
    void twoWaitingRequestsWithTheSameAnalyseIdDoNotOverwriteEachOther() throws Exception {
        AnalysisRequest first = new AnalysisRequest(
                FOLDER,
                "an-1",
                new String[] {"a", "late"},
                null,
                null,
                null,
                null,
                T0,
                new dev.biometry.api.SourceRef("biometry.requests", 0, 1));
        AnalysisRequest second = new AnalysisRequest(
                FOLDER,
                "an-1",
                new String[] {"a", "late"},
                null,
                null,
                null,
                null,
                T0,
                new dev.biometry.api.SourceRef("biometry.requests", 0, 2));
        harness.processElement2(new StreamRecord<>(envelope(new MediaRef[] {photo("a")}, first)));
        harness.processElement2(new StreamRecord<>(envelope(new MediaRef[0], second)));
        assertThat(harness.numProcessingTimeTimers()).isEqualTo(1);
        assertThat(read(
                        FOLDER,
                        new MapStateDescriptor<>("pending", Types.STRING, TypeInformation.of(PendingAnalysis.class))))
                .hasSize(2);

        harness.processElement1(new StreamRecord<>(photo("late")));

        assertThat(harness.extractOutputValues())
                .extracting(s -> s.ticket().token())
                .containsExactlyInAnyOrder(first.token(), second.token());
        assertThat(harness.extractOutputValues())
                .extracting(s -> s.source().offset())
                .containsExactlyInAnyOrder(1L, 2L);
        assertThat(pending(FOLDER)).isEmpty();
        assertThat(harness.numProcessingTimeTimers()).isZero();
    }

    @Test
    void aFullFolderRefusesFurtherMediaAndRequestsThatWouldOverfillIt() throws Exception {
        try (KeyedTwoInputStreamOperatorTestHarness<String, MediaRef, RequestEnvelope, AnalysisStart> capped =
                new KeyedTwoInputStreamOperatorTestHarness<>(
                        new KeyedCoProcessOperator<>(new FolderJoinFunction(
                                Duration.ofSeconds(60),
                                Duration.ofHours(24),
                                0.85,
                                false,
                                new dev.biometry.api.InputLimits(4096, 255, 2, 3, 65536),
                                "media-topic")),
                        MediaRef::folderId,
                        RequestEnvelope::folderId,
                        Types.STRING)) {
            capped.open();
            capped.setProcessingTime(T0);
            for (String id : new String[] {"a", "b", "c", "a", "d"}) {
                capped.processElement1(new StreamRecord<>(photo(id)));
            }
            List<dev.biometry.api.DeadLetter> refused = new ArrayList<>();
            capped.getSideOutput(FolderJoinFunction.DEAD_LETTERS).forEach(r -> refused.add(r.getValue()));
            assertThat(refused).singleElement().satisfies(d -> {
                assertThat(d.errorCode()).isEqualTo(4);
                assertThat(d.errorMessage()).contains("already holds 3 media");
                assertThat(d.sourceTopic()).isEqualTo("media-topic");
                assertThat(d.payload()).contains("\"media_id\":\"d\"");
            });

            // Inline media that would pass the cap: nothing joins, every analysis of the request FAILS with error 4.
            capped.processElement2(
                    new StreamRecord<>(envelope(new MediaRef[] {photo("a"), photo("e")}, request("an-full", null))));
            // Every eligible media of a 3-media folder is more than the 2 one analysis may compare.
            capped.processElement2(new StreamRecord<>(envelope(new MediaRef[0], request("an-many", null))));
            capped.processElement2(new StreamRecord<>(
                    envelope(new MediaRef[0], request("an-two", new String[] {"a", "b"}))));

            List<ResultRecord> results = resultsOf(capped);
            assertThat(results)
                    .extracting(ResultRecord::analyseId, ResultRecord::state)
                    .containsExactly(
                            tuple("an-full", "FAILED"), tuple("an-many", "FAILED"), tuple("an-two", "PROCESSING"));
            JsonNode full = Json.mapper().readTree(results.get(0).json());
            assertThat(full.get("error_code").asInt()).isEqualTo(4);
            assertThat(full.get("error_message").asText()).contains("more than 3 media");
            JsonNode many = Json.mapper().readTree(results.get(1).json());
            assertThat(many.get("error_code").asInt()).isEqualTo(4);
            assertThat(many.get("error_message").asText())
                    .contains("at most 2 media per analysis")
                    .contains("has 3");
            assertThat(many.get("source_media")).hasSize(2);
            capped.getOperator().setCurrentKey(FOLDER);
            assertThat(capped.getOperator()
                            .getKeyedStateStore()
                            .getMapState(new MapStateDescriptor<>(
                                    "media", Types.STRING, TypeInformation.of(FolderMedia.class)))
                            .keys())
                    .containsExactlyInAnyOrder("a", "b", "c");
        }
    }

    @Test
    void manyMissingMediaAreNamedOnlyInPart() throws Exception {
        String[] named = new String[40];
        for (int i = 0; i < named.length; i++) {
            named[i] = "ghost-" + i;
        }
        harness.processElement2(new StreamRecord<>(envelope(new MediaRef[0], request("an-1", named))));
        harness.setProcessingTime(T0 + WAIT_MS);
        String message = Json.mapper()
                .readTree(results().get(0).json())
                .get("error_message")
                .asText();
        assertThat(message).contains("ghost-9").doesNotContain("ghost-10").contains("and 30 more");
    }

    // ---- helpers

    private List<EmbedTask> tasks() {
        return tasksOf(harness);
    }

    private List<ResultRecord> results() {
        return resultsOf(harness);
    }

    /** The embed tasks of the started analyses, as the claim emits them (one per media, in order). */
    static List<EmbedTask> tasksOf(
            KeyedTwoInputStreamOperatorTestHarness<String, MediaRef, RequestEnvelope, AnalysisStart> harness) {
        List<EmbedTask> tasks = new ArrayList<>();
        for (AnalysisStart start : harness.extractOutputValues()) {
            for (int i = 0; i < start.media().length; i++) {
                tasks.add(new EmbedTask(start.ticket(), i, start.media()[i]));
            }
        }
        return tasks;
    }

    /** The PROCESSING and FAILED records of every analysis decided so far. */
    static List<ResultRecord> resultsOf(
            KeyedTwoInputStreamOperatorTestHarness<String, MediaRef, RequestEnvelope, AnalysisStart> harness) {
        return harness.extractOutputValues().stream()
                .map(s -> s.record().forRequest(s.ticket().token(), 0L, false))
                .toList();
    }

    /** Pending analyses by analyse id (the state keys them by analyse id and request). */
    private Map<String, PendingAnalysis> pending(String folder) throws Exception {
        Map<String, PendingAnalysis> byId = new LinkedHashMap<>();
        read(folder, new MapStateDescriptor<>("pending", Types.STRING, TypeInformation.of(PendingAnalysis.class)))
                .values()
                .forEach(p -> byId.put(p.request().analyseId(), p));
        return byId;
    }

    private Map<String, FolderMedia> mediaState(String folder) throws Exception {
        return read(folder, new MapStateDescriptor<>("media", Types.STRING, TypeInformation.of(FolderMedia.class)));
    }

    /** The operator's map state of that name for one folder, read through the operator's keyed state store. */
    private <V> Map<String, V> read(String folder, MapStateDescriptor<String, V> descriptor) throws Exception {
        harness.getOperator().setCurrentKey(folder);
        MapState<String, V> state = harness.getOperator().getKeyedStateStore().getMapState(descriptor);
        Map<String, V> copy = new LinkedHashMap<>();
        for (Map.Entry<String, V> e : state.entries()) {
            copy.put(e.getKey(), e.getValue());
        }
        return copy;
    }

    private static MediaRef photo(String id) {
        return media(id, MediaType.IMAGE_FOLDER, FOLDER, "photo_selfie");
    }

    private static MediaRef media(String id, MediaType type, String folder, String... tags) {
        return new MediaRef(folder, id, type, tags, "file:///media/" + id + ".jpg", id + ".jpg", null);
    }

    private static AnalysisRequest request(String analyseId, String[] sourceMedia) {
        return request(analyseId, sourceMedia, null, null);
    }

    private static AnalysisRequest request(
            String analyseId, String[] sourceMedia, Double threshold, Double thresholdMin) {
        return new AnalysisRequest(
                FOLDER,
                analyseId,
                sourceMedia,
                threshold,
                thresholdMin,
                "{\"case\":\"" + analyseId + "\"}",
                null,
                T0 - 5);
    }

    private static RequestEnvelope envelope(MediaRef[] media, AnalysisRequest... analyses) {
        return new RequestEnvelope(FOLDER, media, analyses);
    }
}
