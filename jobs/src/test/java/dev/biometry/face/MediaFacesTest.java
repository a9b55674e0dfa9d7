package dev.biometry.face;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bytedeco.opencv.global.opencv_core.CV_8UC3;
import static org.bytedeco.opencv.global.opencv_imgproc.FONT_HERSHEY_SIMPLEX;
import static org.bytedeco.opencv.global.opencv_imgproc.GaussianBlur;
import static org.bytedeco.opencv.global.opencv_imgproc.INTER_AREA;
import static org.bytedeco.opencv.global.opencv_imgproc.putText;
import static org.bytedeco.opencv.global.opencv_imgproc.rectangle;
import static org.bytedeco.opencv.global.opencv_imgproc.resize;

import dev.biometry.match.PairwiseMatch;
import dev.biometry.media.ImageDecoder;
import dev.biometry.testing.TestData;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Point;
import org.bytedeco.opencv.opencv_core.Rect;
import org.bytedeco.opencv.opencv_core.Scalar;
import org.bytedeco.opencv.opencv_core.Size;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Face policy, quality gate, ID-document tiled search and best-shot templates on the real models. */
@org.junit.jupiter.api.Tag("integration")
public class MediaFacesTest {

    private static FaceEngine engine;

    @BeforeAll
    static void open() throws Exception {
        engine = new FaceEngine(FaceEngineConfig.defaults(TestData.modelsDir()));
    }

    @AfterAll
    static void close() throws Exception {
        engine.close();
    }

    private static Mat sample(int n) throws Exception {
        return ImageDecoder.decode(TestData.read(TestData.samplePhoto(n)), "sample" + n);
    }

    @Test
    void largestPolicyTakesTheLargestFaceAndRejectPolicyRefusesSeveralFaces() throws Exception {
        try (Mat big = sample(3);
                Mat small = sample(1);
                Mat scene = twoFaces(big, small)) {
            MediaFaces largest = new MediaFaces(engine, FacePolicy.DEFAULT);
            MediaFaces.Result r = largest.photo(scene, false);
            assertThat(r.facesDetected()).isEqualTo(2);
            assertThat(r.problem()).isNull();
            List<DetectedFace> faces = engine.detect(scene);
            float biggest =
                    faces.stream().map(f -> f.box().area()).max(Float::compare).orElseThrow();
            assertThat(r.chosen().box().area()).isEqualTo(biggest);
            // ... and it is the face of sample 3, not the (centred) face of sample 1.
            assertThat(EmbeddingPrecision.DEFAULT
                            .calibration()
                            .confidence(PairwiseMatch.cosine(
                                    r.template(), largest.photo(big, false).template())))
                    .isGreaterThanOrEqualTo(0.85);

            FacePolicy reject = new FacePolicy(FacePolicy.MultipleFaces.REJECT, 40, 16, 15, 0.8);
            MediaFaces.Result refused = new MediaFaces(engine, reject).photo(scene, false);
            assertThat(refused.template()).isNull();
            assertThat(refused.facesDetected()).isEqualTo(2);
            assertThat(refused.problem()).contains("2 faces found").contains("reject");
        }
    }

    /** A 1600x900 grey scene: the main face of {@code big} at 400 px on the left, that of {@code small} at 200 px in the centre. */
    private static Mat twoFaces(Mat big, Mat small) throws Exception {
        return twoFaces(engine, big, small);
    }

    /** {@link #twoFaces(Mat, Mat)} with a given engine (for tests elsewhere). */
    public static Mat twoFaces(FaceEngine engine, Mat big, Mat small) throws Exception {
        Mat scene = new Mat(900, 1600, CV_8UC3, new Scalar(150, 150, 150, 0));
        paste(engine, scene, big, 400, 50, 250);
        paste(engine, scene, small, 200, 700, 350);
        return scene;
    }

    /** Pastes the main face of {@code photo} (with a margin) into {@code scene}, scaled to {@code height} px, at (x, y). */
    private static void paste(FaceEngine engine, Mat scene, Mat photo, int height, int x, int y) throws Exception {
        Box box = new MediaFaces(engine, FacePolicy.ACCEPT_ALL)
                .photo(photo, false)
                .chosen()
                .box();
        try (Rect src = FaceCrops.around(box, 1.4f, photo.cols(), photo.rows());
                Mat crop = new Mat(photo, src);
                Mat scaled = new Mat()) {
            resize(crop, scaled, new Size(height * crop.cols() / crop.rows(), height), 0, 0, INTER_AREA);
            try (Rect dst = new Rect(x, y, scaled.cols(), scaled.rows());
                    Mat at = new Mat(scene, dst)) {
                scaled.copyTo(at);
            }
        }
    }

    @Test
    void aTinyFaceFailsTheQualityGate() throws Exception {
        try (Mat photo = sample(3);
                Mat small = new Mat()) {
            // The main face is ~220 px wide in the 1920 px photo: at 1/8 scale it is ~27 px.
            resize(photo, small, new Size(photo.cols() / 8, photo.rows() / 8), 0, 0, INTER_AREA);
            MediaFaces.Result r = new MediaFaces(engine, FacePolicy.DEFAULT).photo(small, false);
            assertThat(r.template()).isNull();
            assertThat(r.problem()).startsWith("face quality too low").contains("minimum is 40 px");
        }
    }

    @Test
    void aBlurredFaceFailsTheQualityGate() throws Exception {
        try (Mat photo = sample(1);
                Mat blurred = new Mat()) {
            MediaFaces.Result sharp = new MediaFaces(engine, FacePolicy.DEFAULT).photo(photo, false);
            GaussianBlur(photo, blurred, new Size(0, 0), 6);
            MediaFaces.Result r = new MediaFaces(engine, FacePolicy.DEFAULT).photo(blurred, false);
            assertThat(sharp.problem()).isNull();
            assertThat(sharp.chosen().sharpness()).isGreaterThan(FacePolicy.DEFAULT.minSharpness());
            assertThat(r.facesDetected()).isGreaterThan(0);
            assertThat(r.template()).as("template of a blurred face").isNull();
            assertThat(r.problem()).startsWith("face quality too low").contains("sharpness");
        }
    }

    @Test
    void eyesCloserThanTheMinimumFailTheQualityGate() throws Exception {
        try (Mat photo = sample(3)) {
            FaceMeasure face = new MediaFaces(engine, FacePolicy.DEFAULT)
                    .photo(photo, false)
                    .chosen();
            // The face passes with the default 16 px; a minimum just above its own eye distance refuses it.
            assertThat(face.interOcular()).isGreaterThan(FacePolicy.DEFAULT.minInterOcular());
            double justAbove = face.interOcular() + 1;
            FacePolicy policy = new FacePolicy(FacePolicy.MultipleFaces.LARGEST, 40, justAbove, 15, 0.8);
            MediaFaces.Result r = new MediaFaces(engine, policy).photo(photo, false);
            assertThat(r.chosen().interOcular()).isEqualTo(face.interOcular());
            assertThat(r.template()).isNull();
            assertThat(r.problem())
                    .startsWith("face quality too low: eyes are")
                    .contains(String.format(java.util.Locale.ROOT, "the minimum is %.1f px", justAbove));
            FacePolicy huge = new FacePolicy(FacePolicy.MultipleFaces.LARGEST, 40, 10_000, 15, 0.8);
            assertThat(new MediaFaces(engine, huge).photo(photo, false).problem())
                    .startsWith("face quality too low: eyes are")
                    .contains("the minimum is 10000.0 px");
        }
    }

    @Test
    void aDetectorScoreBelowTheMinimumFailsTheQualityGate() throws Exception {
        try (Mat photo = sample(3)) {
            FaceMeasure face = new MediaFaces(engine, FacePolicy.DEFAULT)
                    .photo(photo, false)
                    .chosen();
            assertThat(face.score()).isGreaterThanOrEqualTo((float) FacePolicy.DEFAULT.minDetectorScore());
            // A minimum equal to the face's own score passes; one just above it (0.9999 or more) refuses the face.
            FacePolicy atScore = new FacePolicy(FacePolicy.MultipleFaces.LARGEST, 40, 16, 15, face.score());
            assertThat(new MediaFaces(engine, atScore).photo(photo, false).problem())
                    .isNull();
            double aboveScore = Math.max(0.9999, face.score() + 1e-4);
            FacePolicy strict = new FacePolicy(FacePolicy.MultipleFaces.LARGEST, 40, 16, 15, aboveScore);
            MediaFaces.Result r = new MediaFaces(engine, strict).photo(photo, false);
            assertThat(r.template()).isNull();
            assertThat(r.chosen().score()).isEqualTo(face.score());
            assertThat(r.problem())
                    .startsWith("face quality too low: detector score")
                    .contains(String.format(java.util.Locale.ROOT, "the minimum is %.4f", aboveScore));
        }
    }

    @Test
    void anIdCardPortraitMatchesTheSelfie() throws Exception {
        try (Mat selfie = sample(3);
                Mat card = syntheticIdCard(selfie, 0.10)) {
            MediaFaces faces = new MediaFaces(engine, FacePolicy.DEFAULT);
            MediaFaces.Result document = faces.photo(card, true);
            assertThat(document.problem()).isNull();
            // The portrait (left), not the ghost image a third its size (bottom right), is the face used.
            assertThat(document.facesDetected()).isGreaterThanOrEqualTo(1);
            assertThat(document.chosen().box().x1()).isLessThan(card.cols() / 2f);
            double confidence = EmbeddingPrecision.DEFAULT
                    .calibration()
                    .confidence(PairwiseMatch.cosine(
                            document.template(), faces.photo(selfie, false).template()));
            assertThat(confidence).isGreaterThanOrEqualTo(0.85);
        }
    }

    @Test
    void aPortraitTooSmallForTheWholeImagePassIsFoundOnTiles() throws Exception {
        try (Mat selfie = sample(3);
                Mat card = syntheticIdCard(selfie, 0.05)) {
            MediaFaces faces = new MediaFaces(engine, FacePolicy.DEFAULT);
            assertThat(engine.detect(card)).as("whole-image pass").isEmpty();
            assertThat(faces.photo(card, false).facesDetected())
                    .as("a photo gets no tiled search")
                    .isZero();

            MediaFaces.Result document = faces.photo(card, true);
            assertThat(document.problem()).isNull();
            double confidence = EmbeddingPrecision.DEFAULT
                    .calibration()
                    .confidence(PairwiseMatch.cosine(
                            document.template(), faces.photo(selfie, false).template()));
            assertThat(confidence).isGreaterThanOrEqualTo(0.85);
        }
    }

    @Test
    void framesAreRankedByBestShotAndTheBestAreAveraged() throws Exception {
        try (Mat photo = sample(3);
                Mat blurred = new Mat();
                Mat empty = new Mat(photo.rows(), photo.cols(), CV_8UC3, new Scalar(120, 120, 120, 0))) {
            GaussianBlur(photo, blurred, new Size(0, 0), 2.5);
            List<MediaFaces.Frame> frames = new ArrayList<>();
            frames.add(new MediaFaces.Frame(0, empty));
            frames.add(new MediaFaces.Frame(3, blurred));
            frames.add(new MediaFaces.Frame(6, photo));
            MediaFaces.Result r = new MediaFaces(engine, FacePolicy.DEFAULT).frames(frames, 1);
            assertThat(r.problem()).isNull();
            assertThat(r.frameIndices()).containsExactly(6);
            assertThat(r.bestShotScore()).isEqualTo(r.chosen().bestShotScore());

            MediaFaces.Result two = new MediaFaces(engine, FacePolicy.DEFAULT).frames(frames, 3);
            assertThat(two.frameIndices()).containsExactly(3, 6);
            double norm = 0;
            for (float v : two.template()) {
                norm += v * v;
            }
            assertThat(Math.sqrt(norm)).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-4));

            MediaFaces.Result none = new MediaFaces(engine, FacePolicy.DEFAULT).frames(List.of(frames.get(0)), 3);
            assertThat(none.template()).isNull();
            assertThat(none.problem()).contains("no face found in any of 1 frames");
        }
    }

    /**
     * A card-like picture: a pale 4000x2500 background with lines of text, the selfie's portrait pasted so that the
     * face is about {@code faceFraction} of the card's height, and a "ghost" copy a third that size.
     */
    static Mat syntheticIdCard(Mat selfie, double faceFraction) throws Exception {
        return syntheticIdCard(engine, selfie, faceFraction);
    }

    /** {@link #syntheticIdCard(Mat, double)} with a given engine (for tests elsewhere). */
    public static Mat syntheticIdCard(FaceEngine engine, Mat selfie, double faceFraction) throws Exception {
        MediaFaces.Result face = new MediaFaces(engine, FacePolicy.DEFAULT).photo(selfie, false);
        Box box = face.chosen().box();
        Mat card = new Mat(2500, 4000, CV_8UC3, new Scalar(225, 215, 200, 0));
        rectangle(card, new Point(60, 60), new Point(3940, 2440), new Scalar(120, 90, 60, 0), 12, 8, 0);
        for (int line = 0; line < 8; line++) {
            putText(
                    card,
                    "SPECIMEN  ID-" + (4711 + line) + "  DOE JANE  01.01.1990",
                    new Point(1100, 500 + line * 220),
                    FONT_HERSHEY_SIMPLEX,
                    3.0,
                    new Scalar(40, 40, 40, 0),
                    6,
                    8,
                    false);
        }
        float faceSide = Math.max(box.width(), box.height());
        int side = Math.round(faceSide * 1.6f);
        try (Rect src = FaceCrops.around(box, 1.6f, selfie.cols(), selfie.rows());
                Mat portrait = new Mat(selfie, src);
                Mat small = new Mat();
                Mat ghost = new Mat()) {
            int target = (int) Math.round(faceFraction * card.rows() * side / faceSide);
            resize(portrait, small, new Size(target * portrait.cols() / portrait.rows(), target), 0, 0, INTER_AREA);
            try (Rect dst = new Rect(300, 700, small.cols(), small.rows());
                    Mat at = new Mat(card, dst)) {
                small.copyTo(at);
            }
            resize(portrait, ghost, new Size(small.cols() / 3, small.rows() / 3), 0, 0, INTER_AREA);
            try (Rect dst = new Rect(3500, 1900, ghost.cols(), ghost.rows());
                    Mat at = new Mat(card, dst)) {
                ghost.copyTo(at);
            }
        }
        return card;
    }

    /** Sample photo {@code n} scaled up to 4000 px wide (about 12 MP), as a JPEG: decoded at reduced size. */
    public static byte[] sampleAsLargeJpeg(int n) throws Exception {
        try (Mat photo = sample(n);
                Mat large = new Mat()) {
            resize(
                    photo,
                    large,
                    new Size(4000, Math.round(photo.rows() * 4000f / photo.cols())),
                    0,
                    0,
                    org.bytedeco.opencv.global.opencv_imgproc.INTER_CUBIC);
            return dev.biometry.testing.TestImages.jpeg(large);
        }
    }

    /** {@code photo} scaled by {@code scale} and centred on a grey {@code width} x {@code height} canvas. */
    public static Mat onGreyCanvas(Mat photo, double scale, int width, int height) {
        Mat canvas = new Mat(height, width, CV_8UC3, new Scalar(150, 150, 150, 0));
        try (Mat scaled = new Mat()) {
            resize(
                    photo,
                    scaled,
                    new Size((int) Math.round(photo.cols() * scale), (int) Math.round(photo.rows() * scale)),
                    0,
                    0,
                    INTER_AREA);
            int w = Math.min(width, scaled.cols());
            int h = Math.min(height, scaled.rows());
            try (Rect src = new Rect((scaled.cols() - w) / 2, (scaled.rows() - h) / 2, w, h);
                    Mat from = new Mat(scaled, src);
                    Rect dst = new Rect((width - w) / 2, (height - h) / 2, w, h);
                    Mat at = new Mat(canvas, dst)) {
                from.copyTo(at);
            }
        }
        return canvas;
    }

    @Test
    void theQualityGateJudgesAReducedDecodeInFullImagePixels() throws Exception {
        byte[] bytes = sampleAsLargeJpeg(3);
        assertThat(ImageDecoder.jpegReduction(bytes, FaceEngine.REDUCED_DECODE_MIN_SIDE))
                .isEqualTo(2);
        MediaFaces.Result r;
        FaceMeasure full;
        try (Mat photo = ImageDecoder.decode(bytes, "sample3 at 4000 px")) {
            Box atReducedSize = new MediaAnalyzer(engine, FacePolicy.ACCEPT_ALL, MediaAnalyzer.Limits.DEFAULTS)
                    .analyze(bytes, dev.biometry.api.MediaType.IMAGE_FOLDER, false, "sample3")
                    .chosen()
                    .box();
            DetectedFace sameFace = engine.detect(photo).stream()
                    .filter(f -> f.box().iou(atReducedSize) > 0.9f)
                    .findFirst()
                    .orElseThrow();
            full = engine.measure(photo, sameFace, true);
            // A minimum face side and eye distance that the face meets at full size, but not at half size.
            int minSide = (int) (0.8 * Math.min(full.box().width(), full.box().height()));
            FacePolicy policy =
                    new FacePolicy(FacePolicy.MultipleFaces.LARGEST, minSide, 0.8 * full.interOcular(), 15, 0.8);
            r = new MediaAnalyzer(engine, policy, MediaAnalyzer.Limits.DEFAULTS)
                    .analyze(bytes, dev.biometry.api.MediaType.IMAGE_FOLDER, false, "sample3");
        }
        assertThat(r.problem()).isNull();
        assertThat(r.chosen().box().iou(full.box())).isGreaterThan(0.9f);
        assertThat(r.chosen().interOcular())
                .isCloseTo(full.interOcular(), org.assertj.core.data.Percentage.withPercentage(5));
        assertThat(PairwiseMatch.cosine(r.template(), full.embedding())).isGreaterThan(0.95);
    }
}
