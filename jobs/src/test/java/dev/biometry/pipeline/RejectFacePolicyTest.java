package dev.biometry.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.biometry.api.Json;
import dev.biometry.api.MediaRef;
import dev.biometry.api.MediaType;
import dev.biometry.face.Box;
import dev.biometry.face.FaceCrops;
import dev.biometry.face.FaceEngine;
import dev.biometry.face.FaceEngineConfig;
import dev.biometry.face.FacePolicy;
import dev.biometry.face.MediaAnalyzer;
import dev.biometry.face.MediaFaces;
import dev.biometry.face.MediaFacesTest;
import dev.biometry.match.Calibration;
import dev.biometry.media.ImageDecoder;
import dev.biometry.media.MediaFetcher;
import dev.biometry.testing.TestData;
import dev.biometry.testing.TestImages;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Rect;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Face policy {@code reject} through the embedding operator (real models) and the matcher, each in its test
 * harness: a selfie against a photo showing that face and a second, smaller one. Under {@code reject} the photo gets
 * error 4 naming the policy and the analysis is DECLINED; under {@code largest} the same two media match.
 */
@org.junit.jupiter.api.Tag("integration")
class RejectFacePolicyTest {

    private static final long T0 = 2_000_000L;
    private static final String FOLDER = "policy-folder";

    @TempDir
    static Path root;

    private static MediaRef selfie;
    private static MediaRef twoFaces;

    @BeforeAll
    static void writeMedia() throws Exception {
        Path selfieJpg;
        try (FaceEngine engine = new FaceEngine(FaceEngineConfig.defaults(TestData.modelsDir()));
                Mat alice = ImageDecoder.decode(TestData.read(TestData.samplePhoto(3)), "alice");
                Mat bob = ImageDecoder.decode(TestData.read(TestData.samplePhoto(1)), "bob");
                Mat scene = MediaFacesTest.twoFaces(engine, alice, bob)) {
            // PNG: decoded at full size, so both faces are seen as in MediaFacesTest.
            Path scenePng = TestImages.write(root, "two-faces.png", TestImages.pngBytes(TestImages.jpeg(scene)));
            twoFaces = new MediaRef(
                    FOLDER,
                    "two",
                    MediaType.IMAGE_FOLDER,
                    new String[] {"photo_selfie"},
                    scenePng.toUri().toString(),
                    null,
                    null);
            // Sample 3 shows other faces around its main one: the selfie is a tight crop of the main face.
            Box main = new MediaFaces(engine, FacePolicy.ACCEPT_ALL)
                    .photo(alice, false)
                    .chosen()
                    .box();
            try (Rect around = FaceCrops.around(main, 1.4f, alice.cols(), alice.rows());
                    Mat crop = new Mat(alice, around)) {
                selfieJpg = TestImages.write(root, "alice.jpg", TestImages.jpeg(crop));
            }
        }
        selfie = new MediaRef(
                FOLDER,
                "selfie",
                MediaType.IMAGE_FOLDER,
                new String[] {"photo_selfie"},
                selfieJpg.toUri().toString(),
                null,
                null);
    }

    @Test
    void aPhotoWithTwoFacesIsDeclinedWithError4UnderReject() throws Exception {
        FacePolicy reject = new FacePolicy(FacePolicy.MultipleFaces.REJECT, 40, 16, 15, 0.8);
        List<EmbeddedMedia> embedded = embed(reject, "an-reject");

        EmbeddedMedia refused =
                embedded.stream().filter(e -> e.index() == 1).findFirst().orElseThrow();
        assertThat(refused.fatal())
                .as("a policy failure is a verdict, not a failure")
                .isFalse();
        assertThat(refused.error().code()).isEqualTo(4);
        assertThat(refused.embedding()).isNull();
        assertThat(refused.facesDetected()).isEqualTo(2);

        JsonNode result = match(embedded);
        assertThat(result.get("state").asText()).as(result.toString()).isEqualTo("FINISHED");
        assertThat(result.get("resolution_status").asText()).isEqualTo("DECLINED");
        assertThat(result.has("error_code")).as("no analysis-level error").isFalse();
        JsonNode media = result.at("/results_media/1");
        assertThat(media.get("source_media_id").asText()).isEqualTo("two");
        assertThat(media.at("/error/code").asInt()).isEqualTo(4);
        assertThat(media.at("/error/message").asText())
                .isEqualTo("media two: 2 faces found; the face policy 'reject' accepts media with exactly one face");
        assertThat(media.at("/results_data/faces_detected").asInt()).isEqualTo(2);
        assertThat(result.at("/results_media/0/error").isMissingNode())
                .as("the one-face selfie is fine: " + result)
                .isTrue();
        assertThat(result.at("/results_media/0/results_data/faces_detected").asInt())
                .isEqualTo(1);
    }

    @Test
    void theSamePhotoMatchesUnderLargest() throws Exception {
        List<EmbeddedMedia> embedded = embed(FacePolicy.DEFAULT, "an-largest");

        assertThat(embedded).allSatisfy(e -> assertThat(e.error()).isNull());
        JsonNode result = match(embedded);
        assertThat(result.get("resolution_status").asText())
                .as(result.toString())
                .isEqualTo("SUCCESS");
        assertThat(result.at("/results_media/1/results_data/faces_detected").asInt())
                .isEqualTo(2);
    }

    /** The selfie and the two-face photo of one analysis through {@link EmbedFunction} under {@code policy}. */
    private static List<EmbeddedMedia> embed(FacePolicy policy, String analyseId) throws Exception {
        AnalysisTicket ticket = new AnalysisTicket(analyseId, FOLDER, 0.85, null, null, null, T0, 2);
        try (var harness = new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(new EmbedFunction(
                        TestData.modelsDir().toString(),
                        0.65f,
                        1,
                        policy,
                        MediaAnalyzer.Limits.DEFAULTS,
                        new MediaFetcher(List.of(root.toString()), 10 << 20),
                        Duration.ZERO)),
                (FetchedTask f) -> f.task().media().mediaId(),
                Types.STRING)) {
            harness.open();
            harness.processElement(
                    new StreamRecord<>(new FetchedTask(new EmbedTask(ticket, 0, selfie), null, null, null)));
            harness.processElement(
                    new StreamRecord<>(new FetchedTask(new EmbedTask(ticket, 1, twoFaces), null, null, null)));
            List<EmbeddedMedia> out = harness.extractOutputValues();
            assertThat(out).hasSize(2);
            return out;
        }
    }

    /** The analysis' final record from {@link MatchFunction}, as JSON. */
    private static JsonNode match(List<EmbeddedMedia> embedded) throws Exception {
        try (var harness = new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(new MatchFunction(Calibration.DEFAULT, Duration.ofMinutes(10))),
                (EmbeddedMedia e) -> e.ticket().analyseId(),
                Types.STRING)) {
            harness.open();
            harness.setProcessingTime(T0);
            for (EmbeddedMedia e : embedded) {
                harness.processElement(new StreamRecord<>(e));
            }
            List<ResultRecord> out = harness.extractOutputValues();
            assertThat(out).hasSize(1);
            return Json.mapper().readTree(out.get(0).json());
        }
    }
}
