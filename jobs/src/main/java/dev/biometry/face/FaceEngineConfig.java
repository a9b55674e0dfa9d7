package dev.biometry.face;

import java.nio.file.Path;

/**
 * Settings of one {@link FaceEngine}.
 *
 * @param modelsDir folder holding {@code fr_detect.onnx}, {@code fr_landmark.onnx} and {@code fr_feature.onnx}
 * @param detectionScoreThreshold minimum face probability a detection must reach (default 0.65)
 * @param nmsIouThreshold IoU above which a lower-scoring overlapping detection is dropped (default 0.4)
 * @param intraOpThreads ONNX Runtime threads inside one operator (default 1: one engine per core scales better)
 * @param interOpThreads ONNX Runtime threads across operators (default 1)
 * @param embeddingPrecision which embedding model runs: fp32 or its int8 copy (default {@link EmbeddingPrecision#DEFAULT})
 */
public record FaceEngineConfig(
        Path modelsDir,
        float detectionScoreThreshold,
        float nmsIouThreshold,
        int intraOpThreads,
        int interOpThreads,
        EmbeddingPrecision embeddingPrecision) {

    /** The settings with the default embedding precision. */
    public FaceEngineConfig(
            Path modelsDir,
            float detectionScoreThreshold,
            float nmsIouThreshold,
            int intraOpThreads,
            int interOpThreads) {
        this(
                modelsDir,
                detectionScoreThreshold,
                nmsIouThreshold,
                intraOpThreads,
                interOpThreads,
                EmbeddingPrecision.DEFAULT);
    }

    public static final float DEFAULT_DETECTION_SCORE = 0.65f;
    public static final float DEFAULT_NMS_IOU = 0.4f;

    public FaceEngineConfig {
        if (modelsDir == null) {
            throw new IllegalArgumentException("modelsDir is required");
        }
        if (!(detectionScoreThreshold > 0 && detectionScoreThreshold < 1)) {
            throw new IllegalArgumentException(
                    "detectionScoreThreshold must be in (0,1), got " + detectionScoreThreshold);
        }
        if (!(nmsIouThreshold > 0 && nmsIouThreshold <= 1)) {
            throw new IllegalArgumentException("nmsIouThreshold must be in (0,1], got " + nmsIouThreshold);
        }
        if (intraOpThreads < 1 || interOpThreads < 1) {
            throw new IllegalArgumentException("ONNX Runtime thread counts must be >= 1");
        }
        if (embeddingPrecision == null) {
            throw new IllegalArgumentException("embeddingPrecision is required");
        }
    }

    public static FaceEngineConfig defaults(Path modelsDir) {
        return new FaceEngineConfig(modelsDir, DEFAULT_DETECTION_SCORE, DEFAULT_NMS_IOU, 1, 1);
    }

    public FaceEngineConfig withIntraOpThreads(int threads) {
        return new FaceEngineConfig(
                modelsDir, detectionScoreThreshold, nmsIouThreshold, threads, interOpThreads, embeddingPrecision);
    }

    public FaceEngineConfig withDetectionScoreThreshold(float threshold) {
        return new FaceEngineConfig(
                modelsDir, threshold, nmsIouThreshold, intraOpThreads, interOpThreads, embeddingPrecision);
    }

    public FaceEngineConfig withEmbeddingPrecision(EmbeddingPrecision precision) {
        return new FaceEngineConfig(
                modelsDir, detectionScoreThreshold, nmsIouThreshold, intraOpThreads, interOpThreads, precision);
    }

    /** The embedding model file for {@link #embeddingPrecision}. */
    public Path embeddingModel() {
        return modelsDir.resolve(embeddingPrecision.modelFile());
    }
}
