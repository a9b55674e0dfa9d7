package dev.biometry.face;

import static dev.biometry.testing.TestImages.jpeg;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.bytedeco.opencv.global.opencv_core.ROTATE_90_COUNTERCLOCKWISE;
import static org.bytedeco.opencv.global.opencv_core.flip;
import static org.bytedeco.opencv.global.opencv_core.rotate;

import dev.biometry.match.PairwiseMatch;
import dev.biometry.media.ImageDecoder;
import dev.biometry.media.MediaException;
import dev.biometry.testing.TestData;
import dev.biometry.testing.TestImages;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Rect;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The face engine on the real models and the sample photos fetched by models/fetch.sh. */
@org.junit.jupiter.api.Tag("integration")
class FaceEngineTest {

    private static FaceEngine engine;

    @BeforeAll
    static void open() throws Exception {
        engine = new FaceEngine(FaceEngineConfig.defaults(TestData.modelsDir()));
    }

    @AfterAll
    static void close() throws Exception {
        engine.close();
    }

    @Test
    void everySamplePhotoYieldsAFaceWithAUnitEmbedding() throws Exception {
        int total = 0;
        for (Path photo : TestData.samplePhotos()) {
            FaceAnalysis a = engine.analyze(TestData.read(photo), photo.toString());
            assertThat(a.facesDetected()).as(photo.getFileName().toString()).isGreaterThanOrEqualTo(1);
            assertThat(a.chosen()).isNotNull();
            assertThat(a.chosen().score()).isGreaterThanOrEqualTo(FaceEngineConfig.DEFAULT_DETECTION_SCORE);
            assertThat(a.embedding()).hasSize(512);
            double norm = 0;
            for (float v : a.embedding()) {
                norm += v * v;
            }
            assertThat(Math.sqrt(norm)).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-4));
            // The chosen face is the largest one, or about as large and nearer the centre.
            for (DetectedFace f : a.faces()) {
                assertThat(FaceEngine.MAIN_FACE_AREA_TIE * f.box().area())
                        .isLessThanOrEqualTo(a.chosen().box().area());
            }
            // Its landmarks lie inside the image, around the box.
            for (int i = 0; i < 68; i++) {
                assertThat(a.landmarks()[2 * i]).isBetween(0f, (float) a.imageWidth());
                assertThat(a.landmarks()[2 * i + 1]).isBetween(0f, (float) a.imageHeight());
            }
            total += a.facesDetected();
        }
        // The six sample photos show 22 faces in all.
        assertThat(total).isEqualTo(22);
    }

    @Test
    void aFaceMatchesItsMirroredCroppedAndBrightenedCopies() throws Exception {
        Path photo = TestData.samplePhoto(3);
        byte[] original = TestData.read(photo);
        FaceAnalysis reference = engine.analyze(original, "original");
        Box box = reference.chosen().box();

        try (Mat image = ImageDecoder.decode(original, "original")) {
            // A crop of 3x the face box around it: the face becomes the main face of a smaller picture.
            int side = Math.round(Math.max(box.width(), box.height()) * 3);
            int x = Math.max(0, Math.round(box.centerX() - side / 2f));
            int y = Math.max(0, Math.round(box.centerY() - side / 2f));
            int w = Math.min(side, image.cols() - x);
            int h = Math.min(side, image.rows() - y);
            try (Rect rect = new Rect(x, y, w, h);
                    Mat crop = new Mat(image, rect).clone()) {
                Mat mirrored = new Mat();
                flip(crop, mirrored, 1);
                Mat brighter = new Mat();
                crop.convertTo(brighter, -1, 1.0, 40.0);
                for (Mat variant : new Mat[] {crop, mirrored, brighter}) {
                    FaceAnalysis a = engine.analyze(jpeg(variant), "variant");
                    assertThat(a.hasFace()).isTrue();
                    double confidence = EmbeddingPrecision.DEFAULT
                            .calibration()
                            .confidence(PairwiseMatch.cosine(reference.embedding(), a.embedding()));
                    assertThat(confidence).isGreaterThanOrEqualTo(0.85);
                }
                mirrored.close();
                brighter.close();
            }
        }
    }

    @Test
    void differentPeopleInOnePhotoDoNotMatch() throws Exception {
        // sample4 shows four different people: every pair of its faces is an impostor pair.
        byte[] bytes = TestData.read(TestData.samplePhoto(4));
        try (Mat image = ImageDecoder.decode(bytes, "sample4")) {
            var faces = engine.detect(image);
            assertThat(faces).hasSizeGreaterThanOrEqualTo(2);
            float[][] embeddings = new float[faces.size()][];
            for (int i = 0; i < faces.size(); i++) {
                embeddings[i] = engine.embedAligned(
                        engine.align(image, engine.landmarks(image, faces.get(i).box())));
            }
            for (int i = 0; i < embeddings.length; i++) {
                for (int j = i + 1; j < embeddings.length; j++) {
                    double confidence = EmbeddingPrecision.DEFAULT
                            .calibration()
                            .confidence(PairwiseMatch.cosine(embeddings[i], embeddings[j]));
                    assertThat(confidence).as("faces %d and %d", i, j).isLessThan(0.85);
                }
            }
        }
    }

    @Test
    void exifOrientationIsHonoured() throws Exception {
        byte[] original = TestData.read(TestData.samplePhoto(1));
        FaceAnalysis upright = engine.analyze(original, "upright");
        byte[] rotatedWithTag;
        try (Mat image = ImageDecoder.decode(original, "upright");
                Mat stored = new Mat()) {
            // Stored turned a quarter left; orientation 6 tells a viewer to turn it a quarter right.
            rotate(image, stored, ROTATE_90_COUNTERCLOCKWISE);
            rotatedWithTag = TestImages.withExifOrientation(jpeg(stored), 6);
        }
        FaceAnalysis a = engine.analyze(rotatedWithTag, "rotated+exif");
        assertThat(a.imageWidth()).isEqualTo(upright.imageWidth());
        assertThat(a.imageHeight()).isEqualTo(upright.imageHeight());
        assertThat(a.facesDetected()).isEqualTo(upright.facesDetected());
        assertThat(EmbeddingPrecision.DEFAULT
                        .calibration()
                        .confidence(PairwiseMatch.cosine(upright.embedding(), a.embedding())))
                .isGreaterThanOrEqualTo(0.85);
    }

    @Test
    void emptyAndCorruptImagesGiveTheDocumentedErrors() {
        assertThatThrownBy(() -> engine.analyze(new byte[0], "empty.jpg"))
                .isInstanceOfSatisfying(MediaException.class, e -> {
                    assertThat(e.kind()).isEqualTo(MediaException.Kind.EMPTY);
                    assertThat(e.ozErrorCode()).isEqualTo(4);
                    assertThat(e.getMessage()).contains("empty.jpg").contains("empty image");
                });
        byte[] text = "this is not an image, just text saved as .jpg\n".getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() -> engine.analyze(text, "notes.jpg")).isInstanceOfSatisfying(MediaException.class, e -> {
            assertThat(e.kind()).isEqualTo(MediaException.Kind.UNDECODABLE);
            assertThat(e.ozErrorCode()).isEqualTo(4);
            assertThat(e.getMessage()).contains("notes.jpg").contains("not a decodable");
        });
        byte[] jpeg = TestData.read(TestData.samplePhoto(2));
        byte[] headerOnly = Arrays.copyOf(jpeg, 300);
        assertThatThrownBy(() -> engine.analyze(headerOnly, "cut.jpg"))
                .isInstanceOfSatisfying(
                        MediaException.class, e -> assertThat(e.kind()).isEqualTo(MediaException.Kind.UNDECODABLE));
    }

    @Test
    void anImageWithoutAFaceGivesNoEmbedding() throws Exception {
        try (Mat grey = new Mat(
                480,
                640,
                org.bytedeco.opencv.global.opencv_core.CV_8UC3,
                new org.bytedeco.opencv.opencv_core.Scalar(128, 128, 128, 0))) {
            FaceAnalysis a = engine.analyze(jpeg(grey), "grey.jpg");
            assertThat(a.facesDetected()).isZero();
            assertThat(a.hasFace()).isFalse();
            assertThat(a.embedding()).isNull();
        }
    }

    @Test
    void aLargeJpegIsAnalysedOnAReducedDecodeAndReportedInFullImagePixels() throws Exception {
        byte[] bytes = MediaFacesTest.sampleAsLargeJpeg(3);
        assertThat(ImageDecoder.jpegReduction(
                        TestData.read(TestData.samplePhoto(3)), FaceEngine.REDUCED_DECODE_MIN_SIDE))
                .as("a 1920x1350 photo is decoded at full size")
                .isEqualTo(1);
        assertThat(ImageDecoder.jpegReduction(bytes, FaceEngine.REDUCED_DECODE_MIN_SIDE))
                .isEqualTo(2);
        FaceAnalysis reduced = engine.analyze(bytes, "sample3 at 4000 px");
        try (Mat image = ImageDecoder.decode(bytes, "sample3 at 4000 px")) {
            FaceAnalysis full = engine.analyze(image);
            assertThat(reduced.imageWidth()).isEqualTo(full.imageWidth());
            assertThat(reduced.imageHeight()).isEqualTo(full.imageHeight());
            // Every face is found at the same place (in full-image pixels) at either size.
            assertThat(reduced.facesDetected()).isEqualTo(full.facesDetected());
            for (DetectedFace face : full.faces()) {
                assertThat(reduced.faces())
                        .as("a face at %s", face.box())
                        .anySatisfy(r -> assertThat(r.box().iou(face.box())).isGreaterThan(0.9f));
            }
            // The chosen face was large enough at half size for its own crop to be used: the pixels differ, the
            // face does not.
            Box chosen = reduced.chosen().box();
            assertThat(chosen.height()).isGreaterThanOrEqualTo(2f * FaceEngine.REDUCED_DECODE_MIN_FACE);
            float[] fullLandmarks = engine.landmarks(image, chosen);
            float[] fullEmbedding = engine.embedAligned(engine.align(image, fullLandmarks));
            assertThat(reduced.embedding()).isNotEqualTo(fullEmbedding);
            assertThat(PairwiseMatch.cosine(reduced.embedding(), fullEmbedding)).isGreaterThan(0.95);
            for (int i = 0; i < 68; i++) {
                assertThat(Math.hypot(
                                reduced.landmarks()[2 * i] - fullLandmarks[2 * i],
                                reduced.landmarks()[2 * i + 1] - fullLandmarks[2 * i + 1]))
                        .as("landmark %d", i)
                        .isLessThan(0.05 * chosen.height());
            }
        }
    }

    @Test
    void aFaceTooSmallAtTheReducedSizeIsMeasuredAtFullSize() throws Exception {
        byte[] bytes;
        try (Mat photo = ImageDecoder.decode(TestData.read(TestData.samplePhoto(3)), "sample3")) {
            float faceHeight = engine.analyze(photo).chosen().box().height();
            // Scaled so that the face is 1.5 x the minimum at full size, 0.75 x at half size.
            double scale = 1.5 * FaceEngine.REDUCED_DECODE_MIN_FACE / faceHeight;
            try (Mat canvas = MediaFacesTest.onGreyCanvas(photo, scale, 4000, 3000)) {
                bytes = jpeg(canvas);
            }
        }
        assertThat(ImageDecoder.jpegReduction(bytes, FaceEngine.REDUCED_DECODE_MIN_SIDE))
                .isEqualTo(2);
        FaceAnalysis analysed = engine.analyze(bytes, "small face");
        assertThat(analysed.chosen().box().height()).isLessThan(2f * FaceEngine.REDUCED_DECODE_MIN_FACE);
        try (Mat image = ImageDecoder.decode(bytes, "small face")) {
            // Found at half size, measured in the full-size pixels.
            FaceAnalysis full = engine.analyze(image);
            assertThat(analysed.chosen().box().iou(full.chosen().box())).isGreaterThan(0.9f);
            float[] landmarks = engine.landmarks(image, analysed.chosen().box());
            assertThat(analysed.landmarks()).containsExactly(landmarks);
            assertThat(analysed.embedding()).containsExactly(engine.embedAligned(engine.align(image, landmarks)));
        }
    }

    @Test
    void aFaceTooSmallForItsReductionIsMeasuredAtTheCoarsestReductionThatFits() {
        int min = FaceEngine.REDUCED_DECODE_MIN_FACE;
        assertThat(FaceEngine.finerReduction(min - 1, 2)).isEqualTo(1);
        assertThat(FaceEngine.finerReduction(min / 2f, 4)).isEqualTo(2);
        assertThat(FaceEngine.finerReduction(min / 2f - 1, 4)).isEqualTo(1);
        assertThat(FaceEngine.finerReduction(min / 2f, 8)).isEqualTo(4);
        assertThat(FaceEngine.finerReduction(min / 4f, 8)).isEqualTo(2);
        assertThat(FaceEngine.finerReduction(min / 8f, 8)).isEqualTo(1);
    }
}
