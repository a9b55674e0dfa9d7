package dev.biometry.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import dev.biometry.api.Json;
import dev.biometry.api.MediaRef;
import dev.biometry.api.MediaType;
import dev.biometry.match.Calibration;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link MatchFunction} in an operator test harness on processing time, with hand-made unit embeddings: exactly one
 * final record per analysis, and neither keyed state nor a timer left once it is out.
 */
class MatchFunctionTest {

    private static final long T0 = 5_000_000L;
    private static final long TIMEOUT_MS = Duration.ofMinutes(10).toMillis();
    private static final String ANALYSIS = "an-1";
    private static final int DIM = 512;

    private KeyedOneInputStreamOperatorTestHarness<String, EmbeddedMedia, ResultRecord> harness;

    @BeforeEach
    void openHarness() throws Exception {
        harness = new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(new MatchFunction(Calibration.DEFAULT, Duration.ofMinutes(10))),
                e -> e.ticket().analyseId(),
                Types.STRING);
        harness.open();
        harness.setProcessingTime(T0);
    }

    @AfterEach
    void closeHarness() throws Exception {
        harness.close();
    }

    @Test
    void twoIdenticalEmbeddingsSucceedWithOneFinalRecordAfterTheSecondMedia() throws Exception {
        float[] v = randomUnitVector(new Random(7));
        harness.processElement(new StreamRecord<>(embedded(0, "a", v.clone())));

        assertThat(harness.extractOutputValues()).isEmpty();
        assertThat(harness.numProcessingTimeTimers()).isEqualTo(1);
        assertThat(deadline()).isEqualTo(T0 + TIMEOUT_MS);
        assertThat(receivedIsEmpty()).isFalse();

        harness.setProcessingTime(T0 + 1_000);
        harness.processElement(new StreamRecord<>(embedded(1, "b", v.clone())));

        List<ResultRecord> out = harness.extractOutputValues();
        assertThat(out).hasSize(1);
        ResultRecord result = out.get(0);
        assertThat(result.analyseId()).isEqualTo(ANALYSIS);
        assertThat(result.folderId()).isEqualTo("folder-1");
        assertThat(result.state()).isEqualTo("FINISHED");
        assertThat(result.resolutionStatus()).isEqualTo("SUCCESS");
        assertThat(result.resolutionEndpoint()).isEqualTo("http://hook.test/cb");
        JsonNode json = Json.mapper().readTree(result.json());
        double expected = Calibration.DEFAULT.confidence(1.0);
        assertThat(json.at("/results_data/min_confidence").asDouble()).isCloseTo(expected, within(1e-6));
        assertThat(json.at("/results_data/max_confidence").asDouble()).isCloseTo(expected, within(1e-6));
        assertThat(json.get("results_media"))
                .extracting(m -> m.get("source_media_id").asText())
                .containsExactly("a", "b");
        assertThat(json.at("/results_media/1/results_data/faces_detected").asInt())
                .isEqualTo(1);
        assertThat(json.at("/meta_data/case").asText()).isEqualTo("match");
        assertThat(json.get("time_created").decimalValue()).isEqualByComparingTo("4999.000");
        assertThat(json.get("time_updated").decimalValue()).isEqualByComparingTo("5001.000");

        assertNothingLeft();
        harness.setProcessingTime(T0 + 2 * TIMEOUT_MS);
        assertThat(harness.extractOutputValues()).hasSize(1);
    }

    @Test
    void orthogonalEmbeddingsAreDeclined() throws Exception {
        Random random = new Random(11);
        float[] v = randomUnitVector(random);
        float[] w = orthogonalUnitVector(v, random);
        harness.processElement(new StreamRecord<>(embedded(1, "b", w)));
        assertThat(harness.extractOutputValues()).isEmpty();
        harness.processElement(new StreamRecord<>(embedded(0, "a", v)));

        List<ResultRecord> out = harness.extractOutputValues();
        assertThat(out).hasSize(1);
        assertThat(out.get(0).state()).isEqualTo("FINISHED");
        assertThat(out.get(0).resolutionStatus()).isEqualTo("DECLINED");
        JsonNode json = Json.mapper().readTree(out.get(0).json());
        assertThat(json.at("/results_data/max_confidence").asDouble())
                .isCloseTo(Calibration.DEFAULT.confidence(0.0), within(1e-6))
                .isLessThan(0.85);
        // Media in ticket order whatever the arrival order.
        assertThat(json.get("results_media"))
                .extracting(m -> m.get("source_media_id").asText())
                .containsExactly("a", "b");
        assertNothingLeft();
    }

    @Test
    void aFatalMediaFailsTheAnalysisWithItsErrorCode() throws Exception {
        float[] v = randomUnitVector(new Random(3));
        harness.processElement(new StreamRecord<>(embedded(0, "a", v)));
        harness.processElement(new StreamRecord<>(new EmbeddedMedia(
                ticket(2),
                1,
                photo("gone"),
                0,
                null,
                null,
                10,
                "media gone not found at file:///media/gone.jpg",
                true,
                false,
                0)));

        List<ResultRecord> out = harness.extractOutputValues();
        assertThat(out).hasSize(1);
        assertThat(out.get(0).state()).isEqualTo("FAILED");
        assertThat(out.get(0).resolutionStatus()).isEqualTo("FAILED");
        JsonNode json = Json.mapper().readTree(out.get(0).json());
        assertThat(json.get("error_code").asInt()).isEqualTo(10);
        assertThat(json.get("error_message").asText()).isEqualTo("media gone not found at file:///media/gone.jpg");
        assertThat(json.has("results_data")).isFalse();
        assertNothingLeft();
    }

    @Test
    void anAnalysisMissingAMediaTimesOutWithCode0() throws Exception {
        harness.processElement(new StreamRecord<>(embedded(0, "a", randomUnitVector(new Random(5)))));

        harness.setProcessingTime(T0 + TIMEOUT_MS - 1);
        assertThat(harness.extractOutputValues()).isEmpty();

        harness.setProcessingTime(T0 + TIMEOUT_MS);
        List<ResultRecord> out = harness.extractOutputValues();
        assertThat(out).hasSize(1);
        assertThat(out.get(0).state()).isEqualTo("FAILED");
        JsonNode json = Json.mapper().readTree(out.get(0).json());
        assertThat(json.get("error_code").asInt()).isEqualTo(0);
        assertThat(json.get("error_message").asText())
                .contains("timed out")
                .contains("600 s")
                .contains("1 of 2");
        assertThat(json.get("source_media"))
                .extracting(m -> m.get("media_id").asText())
                .containsExactly("a");
        // Late media are dropped for one more timeout; then nothing is left.
        harness.setProcessingTime(T0 + 2 * TIMEOUT_MS);
        assertNothingLeft();
    }

    /** A media arriving after its analysis timed out must not open a new wait and a second final record. */
    @Test
    void aMediaArrivingAfterTheTimeoutDoesNotProduceASecondFinalRecord() throws Exception {
        harness.processElement(new StreamRecord<>(embedded(0, "a", randomUnitVector(new Random(5)))));
        harness.setProcessingTime(T0 + TIMEOUT_MS);
        assertThat(harness.extractOutputValues()).hasSize(1);

        harness.setProcessingTime(T0 + TIMEOUT_MS + 60_000);
        harness.processElement(new StreamRecord<>(embedded(1, "b", randomUnitVector(new Random(6)))));
        harness.setProcessingTime(T0 + 3 * TIMEOUT_MS);

        assertThat(harness.extractOutputValues())
                .as("final records of " + ANALYSIS)
                .hasSize(1);
        assertNothingLeft();
    }

    @Test
    void analysesAreKeptApartByAnalyseId() throws Exception {
        float[] v = randomUnitVector(new Random(9));
        AnalysisTicket other = new AnalysisTicket("an-2", "folder-1", 0.85, null, null, null, T0, 2);
        harness.processElement(new StreamRecord<>(embedded(0, "a", v)));
        harness.processElement(
                new StreamRecord<>(new EmbeddedMedia(other, 0, photo("a"), 1, v, null, null, null, false, true, 0)));
        assertThat(harness.extractOutputValues()).isEmpty();
        assertThat(harness.numProcessingTimeTimers()).isEqualTo(2);

        harness.processElement(
                new StreamRecord<>(new EmbeddedMedia(other, 1, photo("c"), 1, v, null, null, null, false, true, 0)));
        assertThat(harness.extractOutputValues())
                .extracting(ResultRecord::analyseId)
                .containsExactly("an-2");
        assertThat(harness.numProcessingTimeTimers()).isEqualTo(1);
        assertThat(receivedIsEmpty()).isFalse();
    }

    /**
     * Two requests with one analyse id: media of a request claimed earlier than the one the matcher started with are
     * dropped, never mixed in; media of a request claimed later replace the earlier one's leftovers, and that request
     * finishes with its own media only.
     */
    @Test
    void mediaOfAnotherRequestWithTheSameIdAreNeverMixedIn() throws Exception {
        float[] v = randomUnitVector(new Random(21));
        float[] w = orthogonalUnitVector(v, new Random(22));
        AnalysisTicket first = claimedTicket("req-1", T0);
        AnalysisTicket older = claimedTicket("req-0", T0 - 1);
        AnalysisTicket newer = claimedTicket("req-2", T0 + TIMEOUT_MS + 31_000);

        harness.processElement(new StreamRecord<>(media(first, 0, "a", v)));
        harness.processElement(new StreamRecord<>(media(older, 1, "x", w)));
        assertThat(harness.extractOutputValues())
                .as("the older request's media did not complete the first")
                .isEmpty();

        harness.setProcessingTime(T0 + 1_000);
        harness.processElement(new StreamRecord<>(media(newer, 1, "c", v.clone())));
        assertThat(harness.extractOutputValues()).isEmpty();
        harness.processElement(new StreamRecord<>(media(first, 1, "b", v.clone())));
        assertThat(harness.extractOutputValues())
                .as("the first request's leftovers were dropped")
                .isEmpty();
        harness.processElement(new StreamRecord<>(media(newer, 0, "d", v.clone())));

        List<ResultRecord> out = harness.extractOutputValues();
        assertThat(out).singleElement().satisfies(r -> {
            assertThat(r.token()).isEqualTo("req-2");
            assertThat(r.lateAfterMillis()).isEqualTo(newer.backstopAtMillis());
            assertThat(r.resolutionStatus()).isEqualTo("SUCCESS");
        });
        JsonNode json = Json.mapper().readTree(out.get(0).json());
        assertThat(json.get("results_media"))
                .extracting(m -> m.get("source_media_id").asText())
                .containsExactly("d", "c");
        assertNothingLeft();
    }

    @Test
    void aLongMediaErrorMessageIsCutInTheResult() throws Exception {
        String uri = "file:///media/" + "x".repeat(600_000) + ".jpg";
        harness.processElement(new StreamRecord<>(embedded(0, "a", randomUnitVector(new Random(3)))));
        harness.processElement(new StreamRecord<>(new EmbeddedMedia(
                ticket(2),
                1,
                photo("gone"),
                0,
                null,
                null,
                10,
                "media gone not found at " + uri + " (" + uri + ")",
                true,
                false,
                0)));

        ResultRecord failed = harness.extractOutputValues().get(0);
        assertThat(failed.json().length()).isLessThan(5_000);
        assertThat(Json.mapper().readTree(failed.json()).get("error_message").asText())
                .contains("chars)");
    }

    private static AnalysisTicket claimedTicket(String token, long claimedAt) {
        return new AnalysisTicket(
                ANALYSIS,
                "folder-1",
                0.85,
                null,
                null,
                null,
                T0 - 1_000,
                2,
                token,
                claimedAt,
                claimedAt + TIMEOUT_MS + 30_000);
    }

    private static EmbeddedMedia media(AnalysisTicket ticket, int index, String mediaId, float[] embedding) {
        return new EmbeddedMedia(ticket, index, photo(mediaId), 1, embedding, null, null, null, false, false, 0);
    }

    /**
     * Two media at cosine 0.3 (confidence about 0.636 with the default calibration) judged with the thresholds the
     * ticket carries (the request's params, or the job's default threshold): the band decides the resolution, and
     * the params and meta_data are echoed.
     */
    @ParameterizedTest(name = "threshold {0}, threshold_min {1} -> {2}")
    @CsvSource(
            nullValues = "null",
            value = {
                "0.85, 0.6,  OPERATOR_REQUIRED",
                "0.85, null, DECLINED",
                "0.85, 0.7,  DECLINED",
                "0.6,  null, SUCCESS",
                "0.6,  0.5,  SUCCESS",
            })
    void theTicketsThresholdsDecideTheResolution(double threshold, Double thresholdMin, String expected)
            throws Exception {
        double cosine = 0.3;
        double confidence = Calibration.DEFAULT.confidence(cosine);
        assertThat(confidence).as("the cases above assume this confidence").isBetween(0.61, 0.69);
        Random random = new Random(13);
        float[] v = randomUnitVector(random);
        float[] w = atCosine(v, cosine, random);
        AnalysisTicket ticket = new AnalysisTicket(
                ANALYSIS, "folder-1", threshold, thresholdMin, "{\"case\":\"band\",\"n\":7}", null, T0 - 1_000, 2);
        harness.processElement(
                new StreamRecord<>(new EmbeddedMedia(ticket, 0, photo("a"), 1, v, null, null, null, false, false, 0)));
        harness.processElement(
                new StreamRecord<>(new EmbeddedMedia(ticket, 1, photo("b"), 1, w, null, null, null, false, false, 0)));

        assertThat(harness.extractOutputValues()).hasSize(1);
        ResultRecord result = harness.extractOutputValues().get(0);
        assertThat(result.state()).isEqualTo("FINISHED");
        assertThat(result.resolutionStatus()).isEqualTo(expected);
        JsonNode json = Json.mapper().readTree(result.json());
        assertThat(json.get("resolution").asText()).isEqualTo(expected);
        assertThat(json.at("/results_data/min_confidence").asDouble()).isCloseTo(confidence, within(1e-5));
        assertThat(json.at("/params/threshold").asDouble()).isEqualTo(threshold);
        if (thresholdMin == null) {
            assertThat(json.get("params").has("threshold_min")).isFalse();
        } else {
            assertThat(json.at("/params/threshold_min").asDouble()).isEqualTo(thresholdMin);
        }
        assertThat(json.get("meta_data")).isEqualTo(Json.mapper().readTree("{\"case\":\"band\",\"n\":7}"));
        assertNothingLeft();
    }

    /**
     * Regression: a ticket whose threshold_min exceeds its threshold (job threshold 0.7, request threshold_min 0.8)
     * made {@code Resolution.decide} throw in {@code processElement}, failing the task and replaying the record
     * forever. It is a FAILED analysis with error 4 now.
     */
    @Test
    void aThresholdMinAboveTheThresholdFailsWithCode4InsteadOfThrowing() throws Exception {
        AnalysisTicket ticket = new AnalysisTicket(ANALYSIS, "folder-1", 0.7, 0.8, "{\"case\":\"bad\"}", null, T0, 2);
        float[] v = randomUnitVector(new Random(17));
        harness.processElement(
                new StreamRecord<>(new EmbeddedMedia(ticket, 0, photo("a"), 1, v, null, null, null, false, false, 0)));
        harness.processElement(new StreamRecord<>(
                new EmbeddedMedia(ticket, 1, photo("b"), 1, v.clone(), null, null, null, false, false, 0)));

        List<ResultRecord> out = harness.extractOutputValues();
        assertThat(out).hasSize(1);
        assertThat(out.get(0).state()).isEqualTo("FAILED");
        assertThat(out.get(0).resolutionStatus()).isEqualTo("FAILED");
        JsonNode json = Json.mapper().readTree(out.get(0).json());
        assertThat(json.get("error_code").asInt()).isEqualTo(4);
        assertThat(json.get("error_message").asText())
                .isEqualTo("params.threshold_min (0.8) must not exceed the threshold (0.7)");
        assertThat(json.has("results_data")).isFalse();
        assertThat(json.at("/params/threshold_min").asDouble()).isEqualTo(0.8);
        assertThat(json.at("/meta_data/case").asText()).isEqualTo("bad");
        assertNothingLeft();
    }

    // ---- helpers

    /** No keyed state for the analysis ("received" empty, "deadline" unset), no keyed state at all, no timer. */
    private void assertNothingLeft() throws Exception {
        assertThat(receivedIsEmpty()).as("received empty").isTrue();
        assertThat(deadline()).as("deadline").isNull();
        assertThat(harness.numKeyedStateEntries()).isZero();
        assertThat(harness.numProcessingTimeTimers()).isZero();
    }

    /** True when the "received" map state of {@link #ANALYSIS} is empty. */
    private boolean receivedIsEmpty() throws Exception {
        harness.getOperator().setCurrentKey(ANALYSIS);
        MapState<Integer, EmbeddedMedia> state = harness.getOperator()
                .getKeyedStateStore()
                .getMapState(new MapStateDescriptor<>("received", Types.INT, TypeInformation.of(EmbeddedMedia.class)));
        return state.isEmpty();
    }

    private Long deadline() throws Exception {
        harness.getOperator().setCurrentKey(ANALYSIS);
        return harness.getOperator()
                .getKeyedStateStore()
                .getState(new ValueStateDescriptor<>("deadline", Types.LONG))
                .value();
    }

    private static AnalysisTicket ticket(int mediaCount) {
        return new AnalysisTicket(
                ANALYSIS,
                "folder-1",
                0.85,
                null,
                "{\"case\":\"match\"}",
                "http://hook.test/cb",
                T0 - 1_000,
                mediaCount);
    }

    private static EmbeddedMedia embedded(int index, String mediaId, float[] embedding) {
        return new EmbeddedMedia(ticket(2), index, photo(mediaId), 1, embedding, null, null, null, false, false, 0);
    }

    private static MediaRef photo(String id) {
        return new MediaRef(
                "folder-1",
                id,
                MediaType.IMAGE_FOLDER,
                new String[] {"photo_selfie"},
                "file:///media/" + id + ".jpg",
                id + ".jpg",
                null);
    }

    private static float[] randomUnitVector(Random random) {
        double[] d = new double[DIM];
        for (int i = 0; i < DIM; i++) {
            d[i] = random.nextGaussian();
        }
        return normalise(d);
    }

    /** A unit vector orthogonal to {@code v} (Gram-Schmidt on a random vector). */
    private static float[] orthogonalUnitVector(float[] v, Random random) {
        double[] d = new double[DIM];
        double dot = 0;
        for (int i = 0; i < DIM; i++) {
            d[i] = random.nextGaussian();
            dot += d[i] * v[i];
        }
        for (int i = 0; i < DIM; i++) {
            d[i] -= dot * v[i];
        }
        return normalise(d);
    }

    /** A unit vector whose cosine with the unit vector {@code v} is {@code cosine}. */
    private static float[] atCosine(float[] v, double cosine, Random random) {
        float[] u = orthogonalUnitVector(v, random);
        double sine = Math.sqrt(1 - cosine * cosine);
        double[] d = new double[DIM];
        for (int i = 0; i < DIM; i++) {
            d[i] = cosine * v[i] + sine * u[i];
        }
        return normalise(d);
    }

    private static float[] normalise(double[] d) {
        double norm = 0;
        for (double x : d) {
            norm += x * x;
        }
        norm = Math.sqrt(norm);
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) (d[i] / norm);
        }
        return f;
    }
}
