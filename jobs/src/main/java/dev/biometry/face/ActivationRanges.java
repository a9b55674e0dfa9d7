package dev.biometry.face;

import static org.bytedeco.opencv.global.opencv_core.flip;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.biometry.match.PairwiseMatch;
import dev.biometry.media.ImageDecoder;
import dev.biometry.media.MediaException;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.opencv.opencv_core.Mat;

/**
 * Calibration ranges for the int8 embedding model: runs a copy of the fp32 embedding model whose activations are
 * graph outputs ({@code models/quantize.py augment}) on calibration faces and records each activation's minimum
 * and maximum. The calibration faces are every face the engine finds in the given photos, aligned as for
 * embedding, and each one's mirror image (the embedding model sees mirrored faces as often as not).
 *
 * <p>The copy is also a rewritten graph (PRelu split into Conv/Relu/Add): each face's embedding from it is compared
 * with the fp32 engine's, and collection fails unless they agree (cosine at least {@link #MIN_COSINE}).
 *
 * @param faces number of aligned faces run (mirror images included)
 * @param minCosine lowest cosine between the copy's embedding and the fp32 model's over those faces
 * @param ranges per tensor name, {min, max}, in the model's output order; {@code input} is the model input
 */
public record ActivationRanges(int faces, double minCosine, Map<String, float[]> ranges) {

    /** Agreement the rewritten fp32 graph must show with the original one (equal up to float rounding). */
    public static final double MIN_COSINE = 0.99999;

    /** Name of the embedding model's input tensor. */
    static final String INPUT = "input";
    /** Name of the embedding model's output tensor. */
    static final String OUTPUT = "output";

    /** Collects the ranges of {@code augmentedModel}'s outputs on the faces found in {@code photos}. */
    public static ActivationRanges collect(FaceEngineConfig config, Path augmentedModel, List<Path> photos)
            throws OrtException, IOException, MediaException {
        Map<String, float[]> ranges = new LinkedHashMap<>();
        int faces = 0;
        double minCosine = 1;
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (FaceEngine engine = new FaceEngine(config.withEmbeddingPrecision(EmbeddingPrecision.FP32));
                OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(1);
            try (OrtSession session = env.createSession(augmentedModel.toString(), options);
                    Mat mirrored = new Mat()) {
                for (Path photo : photos) {
                    try (Mat image = ImageDecoder.decode(Files.readAllBytes(photo), photo.toString())) {
                        for (DetectedFace face : engine.detect(image)) {
                            Mat aligned = engine.align(image, engine.landmarks(image, face.box()));
                            flip(aligned, mirrored, 1);
                            for (Mat crop : new Mat[] {aligned, mirrored}) {
                                float[] input = FaceEngine.embeddingInput(crop);
                                widen(ranges, INPUT, input);
                                float[] embedding = run(env, session, input, ranges);
                                minCosine = Math.min(
                                        minCosine,
                                        PairwiseMatch.cosine(
                                                Embeddings.l2Normalize(embedding), engine.embedAligned(crop)));
                                faces++;
                            }
                        }
                    }
                }
            }
        }
        if (!(minCosine >= MIN_COSINE)) {
            throw new IllegalStateException(augmentedModel + " does not compute the fp32 model's embedding: cosine "
                    + minCosine + " on a calibration face");
        }
        return new ActivationRanges(faces, minCosine, ranges);
    }

    /** Runs the copy, widens the ranges and returns its embedding output (not normalised). */
    private static float[] run(OrtEnvironment env, OrtSession session, float[] input, Map<String, float[]> ranges)
            throws OrtException {
        float[] embedding = null;
        long[] shape = {1, 3, FaceEngine.ALIGNED_SIZE, FaceEngine.ALIGNED_SIZE};
        try (OnnxTensor tensor = OnnxTensor.createTensor(env, FloatBuffer.wrap(input), shape);
                OrtSession.Result result = session.run(Map.of(INPUT, tensor))) {
            for (Map.Entry<String, OnnxValue> output : result) {
                FloatBuffer data = ((OnnxTensor) output.getValue()).getFloatBuffer();
                float[] values = new float[data.remaining()];
                data.get(values);
                widen(ranges, output.getKey(), values);
                if (output.getKey().equals(OUTPUT)) {
                    embedding = values;
                }
            }
        }
        if (embedding == null) {
            throw new IllegalStateException("the augmented model has no output '" + OUTPUT + "'");
        }
        return embedding;
    }

    private static void widen(Map<String, float[]> ranges, String name, float[] values) {
        float[] range =
                ranges.computeIfAbsent(name, n -> new float[] {Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY});
        for (float v : values) {
            range[0] = Math.min(range[0], v);
            range[1] = Math.max(range[1], v);
        }
    }

    /** The photos of a folder that calibration uses: its .jpg files, sorted by name. */
    public static List<Path> photosIn(Path folder) throws IOException {
        List<Path> photos = new ArrayList<>();
        try (var files = Files.list(folder)) {
            files.filter(p -> p.getFileName().toString().endsWith(".jpg"))
                    .sorted()
                    .forEach(photos::add);
        }
        return photos;
    }
}
