package dev.biometry.cli;

import dev.biometry.api.Analysis;
import dev.biometry.api.AnalysisParams;
import dev.biometry.api.FaceReport;
import dev.biometry.api.Json;
import dev.biometry.api.MediaObject;
import dev.biometry.api.MediaType;
import dev.biometry.api.Timestamps;
import dev.biometry.face.FaceAnalysis;
import dev.biometry.face.FaceEngine;
import dev.biometry.face.EmbeddingPrecision;
import dev.biometry.face.FaceEngineConfig;
import dev.biometry.match.BiometryAnalyzer;
import dev.biometry.match.MediaOutcome;
import dev.biometry.media.MediaException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * {@code verify IMG IMG [IMG ...] [--threshold T] [--threshold-min T] [--models DIR] [--embedding-precision P]}: compares the main faces of
 * the images pairwise and prints one Oz BIOMETRY analysis object. Exit code 0 whatever the verdict; 2 for
 * files that cannot be read or decoded.
 */
final class VerifyCommand {

    private VerifyCommand() {}

    static int run(String[] argv, PrintStream out, PrintStream err) throws Exception {
        Args args = Args.parse(argv, Set.of("threshold", "threshold-min", "models", "embedding-precision"), Set.of());
        List<String> images = args.positionals();
        if (images.size() < 2) {
            throw new Args.UsageException("verify needs at least two images");
        }
        double threshold = args.doubleOption("threshold", AnalysisParams.DEFAULT_THRESHOLD);
        Double thresholdMin = args.option("threshold-min") == null ? null : args.doubleOption("threshold-min", 0);
        if (!(threshold >= 0 && threshold <= 1) || (thresholdMin != null && !(thresholdMin >= 0 && thresholdMin <= threshold))) {
            throw new Args.UsageException("--threshold must be in [0,1] and --threshold-min in [0, threshold]");
        }
        List<byte[]> contents = new ArrayList<>();
        for (String image : images) {
            try {
                contents.add(Files.readAllBytes(Path.of(image)));
            } catch (NoSuchFileException e) {
                err.println("verify: " + image + ": no such file");
                return 2;
            } catch (IOException e) {
                err.println("verify: " + image + ": cannot read (" + e.getMessage() + ")");
                return 2;
            }
        }
        double created = Timestamps.now();
        List<MediaOutcome> outcomes = new ArrayList<>();
        EmbeddingPrecision precision = EvaluateCommand.embeddingPrecision(args);
        try (FaceEngine engine = new FaceEngine(FaceEngineConfig.defaults(ModelsLocator.locate(args.option("models")))
                .withEmbeddingPrecision(precision))) {
            for (int i = 0; i < images.size(); i++) {
                String name = Path.of(images.get(i)).getFileName().toString();
                MediaObject media = new MediaObject(UUID.randomUUID().toString(), null, MediaType.IMAGE_FOLDER,
                        List.of("photo_selfie"), name, null);
                FaceAnalysis face;
                try {
                    face = engine.analyze(contents.get(i), images.get(i));
                } catch (MediaException e) {
                    err.println("verify: " + e.getMessage());
                    return 2;
                }
                outcomes.add(face.hasFace()
                        ? MediaOutcome.matched(media, face.facesDetected(), face.embedding(), new FaceReport(
                                boxOf(face.chosen().box()), face.chosen().score(), null, null))
                        : MediaOutcome.noFace(media));
            }
        }
        BiometryAnalyzer analyzer = new BiometryAnalyzer(precision.calibration());
        Analysis analysis = analyzer.finish(new BiometryAnalyzer.AnalysisHeader(UUID.randomUUID().toString(), null,
                new AnalysisParams(threshold, thresholdMin), null, created), outcomes, Timestamps.now());
        out.println(Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(analysis));
        return 0;
    }

    private static float[] boxOf(dev.biometry.face.Box b) {
        return new float[] {b.x1(), b.y1(), b.x2(), b.y2()};
    }
}
