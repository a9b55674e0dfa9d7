package dev.biometry.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.biometry.api.Json;
import dev.biometry.face.BatchEmbedder;
import dev.biometry.face.EmbeddingPrecision;
import dev.biometry.face.FaceEngineConfig;
import dev.biometry.match.Calibration;
import dev.biometry.match.CalibrationRow;
import dev.biometry.match.LabelledScores;
import dev.biometry.match.VerificationMetrics;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code evaluate --faces DIR [--json] [--threads N] [--models DIR] [--embedding-precision fp32|int8]}: verification accuracy on a labelled folder
 * (one sub-folder per person) and the calibration fitted on it.
 */
final class EvaluateCommand {

    static final double[] TABLE_CONFIDENCES = {0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99};

    private EvaluateCommand() {}

    /** One labelled image: identity = the name of its sub-folder. */
    record LabelledFile(String identity, Path file) {}

    static CommandSpec spec() {
        CommandSpec spec = CommandArgs.command(
                "evaluate",
                "Accuracy on a labelled folder (one sub-folder per person): AUC, EER, TAR at FAR, calibration.");
        CommandArgs.value(spec, "faces", "DIR", null, "labelled photos, one sub-folder per person (required)");
        CommandArgs.flag(spec, "json", "print the figures as one JSON object");
        CommandArgs.value(spec, "threads", "N", null, "embedding threads (default: the number of cores)");
        CommandArgs.value(spec, "models", "DIR", null, ModelsLocator.DESCRIPTION);
        CommandArgs.value(
                spec,
                "score-threshold",
                "S",
                String.valueOf(FaceEngineConfig.DEFAULT_DETECTION_SCORE),
                "minimum detector score for a face");
        CommandArgs.value(
                spec, "embedding-precision", "int8|fp32", EmbeddingPrecision.DEFAULT.optionValue(), "embedding model");
        return spec;
    }

    static int run(CommandArgs args, PrintStream out, PrintStream err) throws Exception {
        String faces = args.option("faces");
        if (faces == null) {
            throw new UsageException("evaluate needs --faces DIR (one sub-folder per person)");
        }
        Path root = Path.of(faces);
        if (!Files.isDirectory(root)) {
            throw new UsageException("--faces " + faces + " is not a folder");
        }
        List<LabelledFile> files = listLabelled(root);
        if (files.isEmpty()) {
            throw new UsageException("no .jpg/.jpeg/.png images in sub-folders of " + root);
        }
        FaceEngineConfig config = FaceEngineConfig.defaults(ModelsLocator.locate(args.option("models")))
                .withDetectionScoreThreshold(
                        (float) args.doubleOption("score-threshold", FaceEngineConfig.DEFAULT_DETECTION_SCORE))
                .withEmbeddingPrecision(embeddingPrecision(args));
        int threads = args.intOption("threads", Runtime.getRuntime().availableProcessors());
        long identities = files.stream().map(LabelledFile::identity).distinct().count();
        err.printf(
                Locale.ROOT, "embedding %d images of %d identities on %d threads%n", files.size(), identities, threads);

        long t0 = System.nanoTime();
        List<BatchEmbedder.Embedded> embedded = BatchEmbedder.embedAll(
                files.stream().map(LabelledFile::file).toList(),
                config,
                threads,
                done -> {
                    if (done % 100 == 0 || done == files.size()) {
                        err.printf(Locale.ROOT, "  %d/%d%n", done, files.size());
                    }
                },
                null);
        double seconds = (System.nanoTime() - t0) / 1e9;

        List<LabelledScores.Sample> samples = new ArrayList<>();
        List<String> missed = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        for (int i = 0; i < files.size(); i++) {
            BatchEmbedder.Embedded e = embedded.get(i);
            String name = root.relativize(files.get(i).file()).toString();
            if (e.error() != null) {
                failed.add(name + ": " + e.error());
            } else if (!e.hasEmbedding()) {
                missed.add(name);
            } else {
                samples.add(new LabelledScores.Sample(files.get(i).identity(), e.embedding()));
            }
        }
        LabelledScores scores = LabelledScores.of(samples);
        if (scores.genuine().length == 0 || scores.impostor().length == 0) {
            throw new UsageException("need at least two identities and one identity with two usable images");
        }
        VerificationMetrics m = scores.metrics();
        Calibration fitted = Calibration.fit(
                scores.genuine(),
                scores.impostor(),
                Calibration.DEFAULT_ANCHOR_FAR,
                Calibration.DEFAULT_ANCHOR_CONFIDENCE);
        Calibration used = config.embeddingPrecision().calibration();

        if (args.flag("json")) {
            ObjectNode o = Json.mapper().createObjectNode();
            o.put("embedding_precision", config.embeddingPrecision().optionValue());
            o.put("images", files.size());
            o.put("identities", identities);
            o.put("missed", missed.size());
            o.put("failed", failed.size());
            o.put("genuine_pairs", scores.genuine().length);
            o.put("impostor_pairs", scores.impostor().length);
            o.put("auc", m.auc());
            o.put("eer", m.eer());
            o.put("eer_cosine", m.eerThreshold());
            for (double far : new double[] {1e-2, 1e-3}) {
                String suffix = far == 1e-2 ? "1e-2" : "1e-3";
                o.put("tar_at_far_" + suffix, m.tarAtFar(far));
                o.put("cosine_at_far_" + suffix, m.thresholdAtFar(far));
                o.put("confidence_at_far_" + suffix, used.confidence(m.thresholdAtFar(far)));
            }
            o.put("seconds", seconds);
            ObjectNode cal = o.putObject("fitted_calibration");
            cal.put("anchor_cosine", fitted.anchorCosine());
            cal.put("slope", fitted.slope());
            cal.put("anchor_confidence", fitted.anchorConfidence());
            cal.put("anchor_far", fitted.anchorFar());
            ArrayNode table = o.putArray("calibration_table");
            for (CalibrationRow row : used.table(m, TABLE_CONFIDENCES)) {
                table.addObject()
                        .put("confidence", row.confidence())
                        .put("cosine", row.cosine())
                        .put("far", row.far())
                        .put("tar", row.tar());
            }
            missed.forEach(o.putArray("missed_files")::add);
            failed.forEach(o.putArray("failed_files")::add);
            out.println(Json.mapper().writeValueAsString(o));
        } else {
            out.printf(
                    Locale.ROOT,
                    "images              %d (%d identities), embedded in %.1f s (%s embedding model)%n",
                    files.size(),
                    identities,
                    seconds,
                    config.embeddingPrecision().optionValue());
            out.printf(Locale.ROOT, "missed detections   %d%s%n", missed.size(), missed.isEmpty() ? "" : " " + missed);
            if (!failed.isEmpty()) {
                out.printf(Locale.ROOT, "unreadable          %d %s%n", failed.size(), failed);
            }
            out.printf(
                    Locale.ROOT,
                    "pairs               %d genuine, %d impostor%n",
                    scores.genuine().length,
                    scores.impostor().length);
            out.printf(Locale.ROOT, "ROC AUC             %.4f%n", m.auc());
            out.printf(Locale.ROOT, "EER                 %.2f %% (cosine %.3f)%n", 100 * m.eer(), m.eerThreshold());
            for (double far : new double[] {1e-2, 1e-3}) {
                double t = m.thresholdAtFar(far);
                out.printf(
                        Locale.ROOT,
                        "TAR @ FAR %-5s     %.2f %% (cosine %.3f, confidence %.3f)%n",
                        far == 1e-2 ? "1 %" : "0.1 %",
                        100 * m.tarAtFar(far),
                        t,
                        used.confidence(t));
            }
            out.printf(
                    Locale.ROOT,
                    "calibration in use  anchor cosine %.4f -> %.2f, slope %.3f%n",
                    used.anchorCosine(),
                    used.anchorConfidence(),
                    used.slope());
            out.printf(
                    Locale.ROOT,
                    "fitted on this set  anchor cosine %.4f (FAR %s) -> %.2f, slope %.3f%n",
                    fitted.anchorCosine(),
                    fitted.anchorFar(),
                    fitted.anchorConfidence(),
                    fitted.slope());
            out.println("confidence  cosine   FAR        TAR");
            for (CalibrationRow row : used.table(m, TABLE_CONFIDENCES)) {
                out.printf(
                        Locale.ROOT,
                        "%-10.2f  %-7.4f  %-9.5f  %.4f%n",
                        row.confidence(),
                        row.cosine(),
                        row.far(),
                        row.tar());
            }
        }
        return 0;
    }

    /** The {@code --embedding-precision} option (fp32 or int8; default {@link EmbeddingPrecision#DEFAULT}). */
    static EmbeddingPrecision embeddingPrecision(CommandArgs args) {
        try {
            return EmbeddingPrecision.parse(
                    args.option("embedding-precision", EmbeddingPrecision.DEFAULT.optionValue()));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }

    static List<LabelledFile> listLabelled(Path root) throws IOException {
        List<LabelledFile> out = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(root)) {
            for (Path dir : dirs.filter(Files::isDirectory).sorted().toList()) {
                try (Stream<Path> images = Files.list(dir)) {
                    images.filter(EvaluateCommand::isImage)
                            .sorted()
                            .forEach(p ->
                                    out.add(new LabelledFile(dir.getFileName().toString(), p)));
                }
            }
        }
        return out;
    }

    static boolean isImage(Path p) {
        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return Files.isRegularFile(p) && (n.endsWith(".jpg") || n.endsWith(".jpeg") || n.endsWith(".png"));
    }
}
