package dev.biometry.face;

import dev.biometry.match.Calibration;
import java.util.Locale;

/**
 * Which embedding model the engine runs: the fetched fp32 {@code fr_feature.onnx} or its statically quantised
 * int8 (QDQ) copy {@code fr_feature.int8.onnx} made by {@code models/quantize.py}. Each model has its own
 * cosine-to-confidence calibration, fitted on the dev set (see the model card and {@code DevSetAccuracyTest}).
 */
public enum EmbeddingPrecision {
    FP32("fr_feature.onnx", Calibration.DEFAULT),
    // Fitted on shared/faces-dev by `evaluate --embedding-precision int8`; DevSetAccuracyTest re-fits and compares.
    INT8(
            "fr_feature.int8.onnx",
            new Calibration(0.34122, 28.89, Calibration.DEFAULT_ANCHOR_CONFIDENCE, Calibration.DEFAULT_ANCHOR_FAR));

    /**
     * The precision used when none is given: int8, which meets the accuracy bar on the dev set (0 missed, AUC 0.9994,
     * TAR at FAR 0.1 % 0.26 points below fp32) at 2.6x less CPU per embedding.
     */
    public static final EmbeddingPrecision DEFAULT = INT8;

    private final String modelFile;
    private final Calibration calibration;

    EmbeddingPrecision(String modelFile, Calibration calibration) {
        this.modelFile = modelFile;
        this.calibration = calibration;
    }

    /** File name of the embedding model in the models folder. */
    public String modelFile() {
        return modelFile;
    }

    /** The cosine-to-confidence map fitted for this model's scores. */
    public Calibration calibration() {
        return calibration;
    }

    /** The option value: {@code fp32} or {@code int8}. */
    public String optionValue() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@code fp32} or {@code int8} (case-insensitive). */
    public static EmbeddingPrecision parse(String value) {
        for (EmbeddingPrecision p : values()) {
            if (p.optionValue().equalsIgnoreCase(value == null ? "" : value.trim())) {
                return p;
            }
        }
        throw new IllegalArgumentException("--embedding-precision must be fp32 or int8, got '" + value + "'");
    }
}
