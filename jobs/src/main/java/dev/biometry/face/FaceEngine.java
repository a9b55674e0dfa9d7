package dev.biometry.face;

import static org.bytedeco.opencv.global.opencv_core.CV_64F;
import static org.bytedeco.opencv.global.opencv_core.meanStdDev;
import static org.bytedeco.opencv.global.opencv_imgproc.COLOR_BGR2GRAY;
import static org.bytedeco.opencv.global.opencv_imgproc.INTER_LINEAR;
import static org.bytedeco.opencv.global.opencv_imgproc.Laplacian;
import static org.bytedeco.opencv.global.opencv_imgproc.cvtColor;
import static org.bytedeco.opencv.global.opencv_imgproc.resize;
import static org.bytedeco.opencv.global.opencv_imgproc.warpAffine;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.biometry.face.StageTimings.Stage;
import dev.biometry.media.ImageDecoder;
import dev.biometry.media.MediaException;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.indexer.DoubleIndexer;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Rect;
import org.bytedeco.opencv.opencv_core.Size;

/**
 * Turns a photo into the L2-normalised embedding of its main face: detect (fr_detect), 68 landmarks
 * (fr_landmark), five-point similarity alignment to 112x112, embed (fr_feature).
 *
 * <p>Each engine owns one ONNX Runtime session per model and reuses its input buffers and images, so it is
 * <b>not thread-safe</b>: use one engine per thread (per Flink slot). All engines share the process-wide
 * {@link OrtEnvironment}, which is never closed.
 */
public final class FaceEngine implements AutoCloseable {

    /** Side of the aligned face the embedding model takes. */
    public static final int ALIGNED_SIZE = 112;
    /** Where the five points (left eye, right eye, nose tip, left and right mouth corner) go in the 112x112 crop. */
    static final double[][] REFERENCE_POINTS = {
        {38.2946, 51.6963}, {73.5318, 51.5014}, {56.0252, 71.7366}, {41.5493, 92.3655}, {70.7299, 92.2041}
    };

    private static final int DET_W = 320;
    private static final int DET_H = 240;
    private static final int DET_ANCHORS = 4420;
    private static final int LM_SIZE = 64;
    private static final int EMBEDDING_DIM = 512;

    private final FaceEngineConfig config;
    private final OrtSession.SessionOptions options;
    private final OnnxModel detector;
    private final OnnxModel landmarker;
    private final OnnxModel embedder;
    private final StageTimings timings = new StageTimings();

    private final Size detSize = new Size(DET_W, DET_H);
    private final Size lmSize = new Size(LM_SIZE, LM_SIZE);
    private final Size alignedSize = new Size(ALIGNED_SIZE, ALIGNED_SIZE);
    private final Mat detResized = new Mat();
    private final Mat lmResized = new Mat();
    private final Mat lmGray = new Mat();
    private final Mat aligned = new Mat();
    private final Mat affine = new Mat(2, 3, CV_64F);
    private final Mat sharpGray = new Mat();
    private final Mat laplacian = new Mat();
    private final Mat sharpMean = new Mat();
    private final Mat sharpStd = new Mat();
    private final byte[] detBytes = new byte[DET_W * DET_H * 3];
    private final float[] detPlanes = new float[DET_W * DET_H * 3];
    private final byte[] lmBytes = new byte[LM_SIZE * LM_SIZE];
    private final float[] lmInput = new float[LM_SIZE * LM_SIZE];
    private final byte[] alignedBytes = new byte[ALIGNED_SIZE * ALIGNED_SIZE * 3];
    private final float[] alignedPlanes = new float[ALIGNED_SIZE * ALIGNED_SIZE * 3];
    private final float[][] detOutputs = {new float[DET_ANCHORS * 2], new float[DET_ANCHORS * 4]};
    private final float[][] lmOutputs = {new float[136]};
    private final float[][] embOutputs = {new float[EMBEDDING_DIM]};

    /** Opens one session per model. */
    public FaceEngine(FaceEngineConfig config) throws OrtException {
        this.config = config;
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        this.options = new OrtSession.SessionOptions();
        OnnxModel det = null;
        OnnxModel lm = null;
        try {
            options.setIntraOpNumThreads(config.intraOpThreads());
            options.setInterOpNumThreads(config.interOpThreads());
            options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            options.addConfigEntry("session.intra_op.allow_spinning", "0");
            options.addConfigEntry("session.inter_op.allow_spinning", "0");
            // Flushing denormals to zero measured 13.0 vs 13.9 ms per embedding here, with identical scores.
            options.addConfigEntry("session.set_denormal_as_zero", "1");
            det = new OnnxModel(
                    env, options, config.modelsDir().resolve("fr_detect.onnx"), "input", new long[] {1, 3, DET_H, DET_W
                    });
            lm = new OnnxModel(env, options, config.modelsDir().resolve("fr_landmark.onnx"), "input", new long[] {
                1, 1, LM_SIZE, LM_SIZE
            });
            if (config.embeddingPrecision() == EmbeddingPrecision.INT8
                    && !java.nio.file.Files.isRegularFile(config.embeddingModel())) {
                throw new IllegalStateException(
                        "model file not found: " + config.embeddingModel() + " (models/fetch.sh "
                                + "makes it from fr_feature.onnx with python3-onnx and python3-numpy; or run with "
                                + "--embedding-precision fp32)");
            }
            this.embedder = new OnnxModel(
                    env, options, config.embeddingModel(), "input", new long[] {1, 3, ALIGNED_SIZE, ALIGNED_SIZE});
        } catch (OrtException | RuntimeException e) {
            closeQuietly(lm);
            closeQuietly(det);
            options.close();
            throw e;
        }
        this.detector = det;
        this.landmarker = lm;
    }

    public FaceEngineConfig config() {
        return config;
    }

    /** Time spent per stage by this engine since it was opened or last reset. */
    public StageTimings timings() {
        return timings;
    }

    /**
     * Shorter side a large JPEG is decoded down to (at 1/2, 1/4 or 1/8) before detection, which sees 320x240 whatever
     * the input. Measured here (decode alone): a 4000x3000 JPEG takes 66 ms at full size, 29 ms at 1/2; a 1920x1080
     * one 6.8 ms at full size but still 5.4 ms at 1/2 (entropy decoding dominates), too little to pay for a second
     * decode when its face turns out small, so 1080p photos are decoded at full size.
     */
    public static final int REDUCED_DECODE_MIN_SIDE = 960;

    /** ONNX Runtime sessions open in this JVM (three per engine): a number that grows over time is a leak. */
    public static int openSessions() {
        return OnnxModel.openSessions();
    }

    /**
     * Height a face found in a reduced decode must have for its crop to be used: below it the 112x112 aligned face
     * would be upsampled, so the face is measured again in a finer decode (see {@link #finerReduction}).
     */
    public static final int REDUCED_DECODE_MIN_FACE = ALIGNED_SIZE;

    /**
     * The coarsest reduction finer than {@code reduction} at which a face {@code faceHeight} pixels high at
     * {@code reduction} is at least {@link #REDUCED_DECODE_MIN_FACE} high; 1 (full size) when none is.
     */
    public static int finerReduction(float faceHeight, int reduction) {
        for (int finer = reduction / 2; finer > 1; finer /= 2) {
            if (faceHeight * reduction / finer >= REDUCED_DECODE_MIN_FACE) {
                return finer;
            }
        }
        return 1;
    }

    /** Decodes the image again at a finer reduction when a reduced decode showed its face too small to measure. */
    @FunctionalInterface
    public interface Redecode {
        Mat decode(int reduction) throws MediaException;
    }

    /**
     * Measures {@code face}, found in {@code decoded} (the image at 1/{@code reduction} of its size): there when it
     * is at least {@link #REDUCED_DECODE_MIN_FACE} pixels high (or the decode is full size), else in the finer
     * decode {@code redecode} makes ({@link #finerReduction}). Box, landmarks and eye distance of the result are in
     * the full image's pixels.
     */
    public FaceMeasure measureFound(
            Mat decoded, int reduction, DetectedFace face, boolean withEmbedding, Redecode redecode)
            throws OrtException, MediaException {
        if (reduction == 1 || face.box().height() >= REDUCED_DECODE_MIN_FACE) {
            return measure(decoded, face, withEmbedding).scaled(reduction);
        }
        int finer = finerReduction(face.box().height(), reduction);
        try (Mat image = redecode.decode(finer)) {
            return measure(image, face.scaled((float) reduction / finer), withEmbedding)
                    .scaled(finer);
        }
    }

    /**
     * Decodes and analyses an encoded JPEG or PNG image. A large JPEG is decoded at reduced size (see
     * {@link #REDUCED_DECODE_MIN_SIDE}) for detection, and its main face measured as {@link #measureFound} does.
     * The result is always in the full image's pixels.
     */
    public FaceAnalysis analyze(byte[] encoded, String name) throws MediaException, OrtException {
        int reduction = ImageDecoder.jpegReduction(encoded, REDUCED_DECODE_MIN_SIDE);
        try (Mat image = decodeTimed(encoded, name, reduction)) {
            if (reduction == 1) {
                return analyze(image);
            }
            int[] size = ImageDecoder.fullSize(encoded, image, reduction);
            List<DetectedFace> faces = detect(image);
            List<DetectedFace> fullSizeFaces =
                    faces.stream().map(f -> f.scaled(reduction)).toList();
            DetectedFace chosen = chooseMainFace(faces, image.cols(), image.rows());
            if (chosen == null) {
                return new FaceAnalysis(size[0], size[1], fullSizeFaces, null, null, null);
            }
            FaceMeasure measured =
                    measureFound(image, reduction, chosen, true, finer -> decodeTimed(encoded, name, finer));
            return new FaceAnalysis(
                    size[0],
                    size[1],
                    fullSizeFaces,
                    chosen.scaled(reduction),
                    measured.landmarks(),
                    measured.embedding());
        }
    }

    private Mat decodeTimed(byte[] encoded, String name, int reduction) throws MediaException {
        long t0 = System.nanoTime();
        Mat image = ImageDecoder.decode(encoded, name, reduction);
        timings.add(Stage.DECODE, System.nanoTime() - t0);
        return image;
    }

    /** Analyses a decoded 8-bit BGR image. */
    public FaceAnalysis analyze(Mat bgr) throws OrtException {
        List<DetectedFace> faces = detect(bgr);
        return measureChosen(bgr, faces, chooseMainFace(faces, bgr.cols(), bgr.rows()));
    }

    private FaceAnalysis measureChosen(Mat bgr, List<DetectedFace> faces, DetectedFace chosen) throws OrtException {
        if (chosen == null) {
            return new FaceAnalysis(bgr.cols(), bgr.rows(), faces, null, null, null);
        }
        float[] landmarks = landmarks(bgr, chosen.box());
        float[] embedding = embedAligned(align(bgr, landmarks));
        return new FaceAnalysis(bgr.cols(), bgr.rows(), faces, chosen, landmarks, embedding);
    }

    /** Faces above the score threshold after NMS, in image pixels, highest score first. */
    public List<DetectedFace> detect(Mat bgr) throws OrtException {
        long t0 = System.nanoTime();
        resize(bgr, detResized, detSize, 0, 0, INTER_LINEAR);
        detResized.data().get(detBytes);
        toRgbPlanes(detBytes, detPlanes, DET_W * DET_H);
        FloatBuffer in = detector.input();
        in.put(detPlanes);
        detector.run(new String[] {"scores", "boxes"}, detOutputs);
        float[] scores = detOutputs[0];
        float[] boxes = detOutputs[1];
        float sx = bgr.cols();
        float sy = bgr.rows();
        List<DetectedFace> candidates = new ArrayList<>();
        for (int i = 0; i < DET_ANCHORS; i++) {
            float score = scores[2 * i + 1];
            if (score >= config.detectionScoreThreshold()) {
                // Boxes come out already decoded and normalised to 0..1 (no prior boxes to apply).
                Box box =
                        new Box(boxes[4 * i] * sx, boxes[4 * i + 1] * sy, boxes[4 * i + 2] * sx, boxes[4 * i + 3] * sy);
                if (box.width() > 1 && box.height() > 1) {
                    candidates.add(new DetectedFace(box, score));
                }
            }
        }
        List<DetectedFace> kept = Nms.suppress(candidates, config.nmsIouThreshold());
        timings.add(Stage.DETECT, System.nanoTime() - t0);
        return kept;
    }

    /**
     * Faces at least this fraction of the largest face's area count as equally large: a bystander's face a little
     * larger than the subject's at the edge of the frame must not win over the centred subject.
     */
    public static final float MAIN_FACE_AREA_TIE = 0.8f;

    /**
     * The main face: the largest; among faces of about the same size (area within {@link #MAIN_FACE_AREA_TIE} of
     * the largest), the one nearest the image centre. {@code null} for none.
     */
    public static DetectedFace chooseMainFace(List<DetectedFace> faces, int imageWidth, int imageHeight) {
        float largest = 0;
        for (DetectedFace face : faces) {
            largest = Math.max(largest, face.box().area());
        }
        DetectedFace best = null;
        double bestDistance = Double.MAX_VALUE;
        for (DetectedFace face : faces) {
            if (face.box().area() < MAIN_FACE_AREA_TIE * largest) {
                continue;
            }
            double distance = Math.hypot(
                    face.box().centerX() - imageWidth / 2.0, face.box().centerY() - imageHeight / 2.0);
            if (distance < bestDistance) {
                best = face;
                bestDistance = distance;
            }
        }
        return best;
    }

    /** 68 landmarks of the face in {@code box}, as interleaved (x, y) image pixels. */
    public float[] landmarks(Mat bgr, Box box) throws OrtException {
        long t0 = System.nanoTime();
        int[] crop = squareCrop(box, bgr.cols(), bgr.rows());
        try (Rect rect = new Rect(crop[0], crop[1], crop[2], crop[3]);
                Mat roi = new Mat(bgr, rect)) {
            resize(roi, lmResized, lmSize, 0, 0, INTER_LINEAR);
        }
        cvtColor(lmResized, lmGray, COLOR_BGR2GRAY);
        lmGray.data().get(lmBytes);
        for (int i = 0; i < lmBytes.length; i++) {
            lmInput[i] = (lmBytes[i] & 0xff) / 256f;
        }
        landmarker.input().put(lmInput);
        landmarker.run(new String[] {"output"}, lmOutputs);
        float[] points = new float[136];
        float cx = crop[0];
        float cy = crop[1];
        float cw = crop[2];
        float ch = crop[3];
        for (int i = 0; i < 68; i++) {
            points[2 * i] = cx + lmOutputs[0][2 * i] * cw;
            points[2 * i + 1] = cy + lmOutputs[0][2 * i + 1] * ch;
        }
        timings.add(Stage.LANDMARKS, System.nanoTime() - t0);
        return points;
    }

    /** A square of side = box height centred on the box, clipped to the image, as {x, y, width, height}. */
    static int[] squareCrop(Box box, int imageWidth, int imageHeight) {
        float side = box.height();
        int x1 = Math.max(0, Math.round(box.centerX() - side / 2));
        int y1 = Math.max(0, Math.round(box.centerY() - side / 2));
        int x2 = Math.min(imageWidth, Math.round(box.centerX() + side / 2));
        int y2 = Math.min(imageHeight, Math.round(box.centerY() + side / 2));
        x1 = Math.min(x1, imageWidth - 1);
        y1 = Math.min(y1, imageHeight - 1);
        return new int[] {x1, y1, Math.max(1, x2 - x1), Math.max(1, y2 - y1)};
    }

    /** The five alignment points (eyes, nose tip, mouth corners) from the 68 landmarks. */
    public static double[][] fivePoints(float[] lm) {
        return new double[][] {
            mean(lm, 37, 38, 40, 41), mean(lm, 43, 44, 46, 47), mean(lm, 30), mean(lm, 48, 60), mean(lm, 54, 64)
        };
    }

    private static double[] mean(float[] lm, int... indices) {
        double x = 0, y = 0;
        for (int i : indices) {
            x += lm[2 * i];
            y += lm[2 * i + 1];
        }
        return new double[] {x / indices.length, y / indices.length};
    }

    /**
     * Measures {@code face} in {@code bgr}: landmarks, eye distance, sharpness of the aligned face and, when
     * {@code withEmbedding}, its embedding.
     */
    public FaceMeasure measure(Mat bgr, DetectedFace face, boolean withEmbedding) throws OrtException {
        float[] lm = landmarks(bgr, face.box());
        double[][] five = fivePoints(lm);
        double interOcular = Math.hypot(five[1][0] - five[0][0], five[1][1] - five[0][1]);
        Mat alignedFace = align(bgr, lm);
        double sharpness = sharpness(alignedFace);
        float[] embedding = withEmbedding ? embedAligned(alignedFace) : null;
        return new FaceMeasure(face.box(), face.score(), lm, interOcular, sharpness, embedding);
    }

    /**
     * Variance of the Laplacian over the inner face (eyes to mouth) of the aligned 112x112 face: low for blurred
     * faces. The border is left out so that hair, background and the crop's edge do not count.
     */
    double sharpness(Mat aligned112) {
        try (Rect inner = new Rect(24, 32, 64, 72);
                Mat face = new Mat(aligned112, inner)) {
            cvtColor(face, sharpGray, COLOR_BGR2GRAY);
        }
        Laplacian(sharpGray, laplacian, CV_64F);
        meanStdDev(laplacian, sharpMean, sharpStd);
        try (DoubleIndexer idx = sharpStd.createIndexer()) {
            double std = idx.get(0);
            return std * std;
        }
    }

    /** Warps the face onto the 112x112 reference with the least-squares similarity of all five points. */
    public Mat align(Mat bgr, float[] landmarks) {
        long t0 = System.nanoTime();
        SimilarityTransform transform = SimilarityTransform.estimate(fivePoints(landmarks), REFERENCE_POINTS);
        double[] m = transform.toAffineMatrix();
        try (DoubleIndexer idx = affine.createIndexer()) {
            for (int i = 0; i < 6; i++) {
                idx.put(i / 3, i % 3, m[i]);
            }
        }
        warpAffine(bgr, aligned, affine, alignedSize);
        timings.add(Stage.ALIGN, System.nanoTime() - t0);
        return aligned;
    }

    /** The unit-length embedding of a 112x112 BGR aligned face. */
    public float[] embedAligned(Mat aligned112) throws OrtException {
        long t0 = System.nanoTime();
        embeddingInput(aligned112, alignedBytes, alignedPlanes);
        embedder.input().put(alignedPlanes);
        embedder.run(new String[] {"output"}, embOutputs);
        float[] embedding = Embeddings.l2Normalize(embOutputs[0]);
        timings.add(Stage.EMBED, System.nanoTime() - t0);
        return embedding;
    }

    /** The embedding model's input for a 112x112 BGR aligned face: planar RGB, (x - 127) / 128. */
    public static float[] embeddingInput(Mat aligned112) {
        float[] planes = new float[ALIGNED_SIZE * ALIGNED_SIZE * 3];
        embeddingInput(aligned112, new byte[planes.length], planes);
        return planes;
    }

    private static void embeddingInput(Mat aligned112, byte[] bytes, float[] planes) {
        if (aligned112.cols() != ALIGNED_SIZE || aligned112.rows() != ALIGNED_SIZE || aligned112.channels() != 3) {
            throw new IllegalArgumentException("aligned face must be 112x112 BGR");
        }
        aligned112.data().get(bytes);
        toRgbPlanes(bytes, planes, ALIGNED_SIZE * ALIGNED_SIZE);
    }

    /** Interleaved BGR bytes to planar RGB floats scaled (x - 127) / 128. */
    private static void toRgbPlanes(byte[] bgr, float[] planes, int pixels) {
        for (int p = 0, i = 0; p < pixels; p++, i += 3) {
            planes[p] = ((bgr[i + 2] & 0xff) - 127f) / 128f;
            planes[pixels + p] = ((bgr[i + 1] & 0xff) - 127f) / 128f;
            planes[2 * pixels + p] = ((bgr[i] & 0xff) - 127f) / 128f;
        }
    }

    private static void closeQuietly(OnnxModel model) {
        if (model != null) {
            try {
                model.close();
            } catch (OrtException ignored) {
                // already failing; the first error is the one reported
            }
        }
    }

    @Override
    public void close() throws OrtException {
        try {
            embedder.close();
            landmarker.close();
            detector.close();
        } finally {
            options.close();
            detResized.close();
            lmResized.close();
            lmGray.close();
            aligned.close();
            affine.close();
            sharpGray.close();
            laplacian.close();
            sharpMean.close();
            sharpStd.close();
            detSize.close();
            lmSize.close();
            alignedSize.close();
        }
    }
}
