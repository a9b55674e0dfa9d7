package dev.biometry.cli;

import dev.biometry.api.Analysis;
import dev.biometry.api.AnalysisHeader;
import dev.biometry.api.AnalysisParams;
import dev.biometry.api.Json;
import dev.biometry.api.MediaObject;
import dev.biometry.api.MediaType;
import dev.biometry.api.Timestamps;
import dev.biometry.config.JobConfig;
import dev.biometry.face.EmbeddingPrecision;
import dev.biometry.face.FaceEngine;
import dev.biometry.face.FaceEngineConfig;
import dev.biometry.face.MediaAnalyzer;
import dev.biometry.match.BiometryAnalyzer;
import dev.biometry.match.FaceOutcome;
import dev.biometry.match.MediaOutcome;
import dev.biometry.match.PairwiseMatch;
import dev.biometry.pipeline.BiometryJob;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code verify IMG IMG [IMG ...] [--threshold T] [--threshold-min T] [--models DIR] [--embedding-precision P]
 * [--face-policy largest|reject] [--min-face-side PX] [--min-eye-distance PX] [--min-sharpness S]
 * [--min-face-score S] [--detection-score S]}: compares the faces of the images pairwise and prints one Oz BIOMETRY
 * analysis object. Each image goes through the job's path (media analyzer, face policy, quality gate, analyzer)
 * with the job's defaults for the face options, so verify and the job agree on the same photos. Exit code 0
 * whatever the verdict; 2 for files that cannot be read or decoded.
 */
final class VerifyCommand {

    /** The job's options that decide which face of a photo is used; verify takes them under the same names. */
    static final List<String> FACE_OPTIONS = List.of(
            "face-policy", "min-face-side", "min-eye-distance", "min-sharpness", "min-face-score", "detection-score");

    private VerifyCommand() {}

    static CommandSpec spec() {
        CommandSpec spec = CommandArgs.command(
                "verify",
                "Compares the main faces of the images pairwise through the job's path (face policy, quality gate)"
                        + " and prints one Oz BIOMETRY analysis (JSON).");
        CommandArgs.positionals(spec, "IMG", "two or more photos");
        CommandArgs.value(
                spec,
                "threshold",
                "T",
                String.valueOf(AnalysisParams.DEFAULT_THRESHOLD),
                "confidence threshold for SUCCESS");
        CommandArgs.value(spec, "threshold-min", "T", null, "optional lower threshold (Oz threshold_min)");
        CommandArgs.value(spec, "models", "DIR", null, ModelsLocator.DESCRIPTION);
        CommandArgs.value(
                spec, "embedding-precision", "int8|fp32", EmbeddingPrecision.DEFAULT.optionValue(), "embedding model");
        FACE_OPTIONS.forEach(name -> CommandArgs.jobOption(spec, name));
        return spec;
    }

    static int run(CommandArgs args, PrintStream out, PrintStream err) throws Exception {
        List<String> images = args.positionals();
        if (images.size() < PairwiseMatch.MIN_MEDIA) {
            throw new UsageException("verify needs at least two images");
        }
        double threshold = args.doubleOption("threshold", AnalysisParams.DEFAULT_THRESHOLD);
        Double thresholdMin = args.option("threshold-min") == null ? null : args.doubleOption("threshold-min", 0);
        if (!(threshold >= 0 && threshold <= 1)
                || (thresholdMin != null && !(thresholdMin >= 0))
                || AnalysisParams.thresholdMinAbove(thresholdMin, threshold)) {
            throw new UsageException("--threshold must be in [0,1] and --threshold-min in [0, threshold]");
        }
        JobConfig face = faceConfig(args);
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
                .withDetectionScoreThreshold(face.detectionScore())
                .withEmbeddingPrecision(precision))) {
            MediaAnalyzer analyzer =
                    new MediaAnalyzer(engine, BiometryJob.facePolicy(face), BiometryJob.mediaLimits(face));
            for (int i = 0; i < images.size(); i++) {
                String name = Path.of(images.get(i)).getFileName().toString();
                MediaObject media = new MediaObject(
                        UUID.randomUUID().toString(),
                        null,
                        MediaType.IMAGE_FOLDER,
                        List.of("photo_selfie"),
                        name,
                        null);
                FaceOutcome outcome = analyzer.outcome(contents.get(i), MediaType.IMAGE_FOLDER, false, images.get(i));
                if (outcome.fatal()) {
                    err.println("verify: " + outcome.error().message());
                    return 2;
                }
                outcomes.add(new MediaOutcome(media, outcome, null));
            }
        }
        BiometryAnalyzer analyzer = new BiometryAnalyzer(precision.calibration());
        Analysis analysis = analyzer.finish(
                new AnalysisHeader(
                        UUID.randomUUID().toString(), null, new AnalysisParams(threshold, thresholdMin), null, created),
                outcomes,
                Timestamps.now());
        out.println(Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(analysis));
        return 0;
    }

    /** The job's configuration with the face options given to verify (the job's defaults for the others). */
    private static JobConfig faceConfig(CommandArgs args) {
        Map<String, String> given = new LinkedHashMap<>();
        for (String name : FACE_OPTIONS) {
            if (args.option(name) != null) {
                given.put(name, args.option(name));
            }
        }
        try {
            return JobConfig.fromOptions(given, Map.of());
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }
}
