package dev.biometry.face;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.biometry.api.Json;
import dev.biometry.match.PairwiseMatch;
import dev.biometry.media.ImageDecoder;
import dev.biometry.testing.TestData;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.opencv.opencv_core.Mat;
import org.junit.jupiter.api.Test;

/**
 * The int8 embedding model made by models/fetch.sh (quantize.py) from the fetched fp32 model: its committed
 * calibration ranges come back when collected again from the fetched model and the sample photos, and its
 * embeddings agree with the fp32 model's on every sample face. The dev-set accuracy is DevSetAccuracyTest's.
 */
@org.junit.jupiter.api.Tag("integration")
class Int8EmbeddingModelTest {

    @Test
    void theCommittedCalibrationRangesAreCollectedAgainFromTheFetchedModelAndTheSamplePhotos() throws Exception {
        Path models = TestData.modelsDir();
        Path augmented = models.resolve("fr_feature.ranges.onnx");
        assertThat(augmented).as("made by models/fetch.sh").isRegularFile();
        ActivationRanges collected = ActivationRanges.collect(
                FaceEngineConfig.defaults(models), augmented, ActivationRanges.photosIn(models.resolve("samples")));
        JsonNode committed = Json.mapper()
                .readTree(models.resolve("fr_feature.int8.ranges.json").toFile());

        // 22 faces in the six photos, each also mirrored; the rewritten graph computes the fp32 embedding.
        assertThat(collected.faces())
                .isEqualTo(44)
                .isEqualTo(committed.get("faces").asInt());
        assertThat(collected.minCosine()).isGreaterThanOrEqualTo(ActivationRanges.MIN_COSINE);
        List<String> names = new ArrayList<>();
        committed.get("ranges").fieldNames().forEachRemaining(names::add);
        assertThat(collected.ranges().keySet()).containsExactlyElementsOf(names);
        // Equal here; another CPU's fp32 kernels may round differently, hence the tolerance.
        for (Map.Entry<String, float[]> e : collected.ranges().entrySet()) {
            JsonNode range = committed.get("ranges").get(e.getKey());
            double width = range.get(1).asDouble() - range.get(0).asDouble();
            assertThat(width).as(e.getKey()).isPositive();
            assertThat((double) e.getValue()[0])
                    .as("min of %s", e.getKey())
                    .isCloseTo(range.get(0).asDouble(), org.assertj.core.data.Offset.offset(1e-3 * width));
            assertThat((double) e.getValue()[1])
                    .as("max of %s", e.getKey())
                    .isCloseTo(range.get(1).asDouble(), org.assertj.core.data.Offset.offset(1e-3 * width));
        }
    }

    @Test
    void int8EmbeddingsAgreeWithFp32OnEverySampleFace() throws Exception {
        FaceEngineConfig config = FaceEngineConfig.defaults(TestData.modelsDir());
        double min = 1;
        double sum = 0;
        int faces = 0;
        try (FaceEngine fp32 = new FaceEngine(config.withEmbeddingPrecision(EmbeddingPrecision.FP32));
                FaceEngine int8 = new FaceEngine(config.withEmbeddingPrecision(EmbeddingPrecision.INT8))) {
            for (Path photo : TestData.samplePhotos()) {
                try (Mat image = ImageDecoder.decode(TestData.read(photo), photo.toString())) {
                    for (DetectedFace face : fp32.detect(image)) {
                        Mat aligned = fp32.align(image, fp32.landmarks(image, face.box()));
                        double cosine = PairwiseMatch.cosine(fp32.embedAligned(aligned), int8.embedAligned(aligned));
                        min = Math.min(min, cosine);
                        sum += cosine;
                        faces++;
                    }
                }
            }
        }
        System.out.printf("int8 vs fp32 on %d sample faces: cosine min %.4f, mean %.4f%n", faces, min, sum / faces);
        assertThat(faces).isEqualTo(22);
        // Measured here: min 0.947, mean 0.977, far above the 0.34 decision threshold (a broken quantisation, e.g. a
        // wrong scale or zero point, gives cosines near 0).
        assertThat(min).isGreaterThan(0.92);
        assertThat(sum / faces).isGreaterThan(0.96);
    }
}
