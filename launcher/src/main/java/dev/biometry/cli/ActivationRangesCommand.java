package dev.biometry.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.biometry.api.Json;
import dev.biometry.face.ActivationRanges;
import dev.biometry.face.FaceEngineConfig;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code activation-ranges --augmented FILE [--images DIR] [--out FILE] [--models DIR]}: the calibration ranges of
 * the int8 embedding model (a step of {@code models/calibrate.sh}): runs the activation-exposing copy of
 * {@code fr_feature.onnx} made by {@code models/quantize.py augment} on every face of the photos in DIR (default
 * the sample photos) and their mirror images, and writes each activation's min and max as JSON.
 */
final class ActivationRangesCommand {

    private ActivationRangesCommand() {}

    static CommandSpec spec() {
        CommandSpec spec = CommandArgs.command(
                "activation-ranges", "Calibration ranges of the int8 embedding model (see models/calibrate.sh).");
        CommandArgs.value(spec, "augmented", "FILE", null, "the copy made by models/quantize.py augment (required)");
        CommandArgs.value(spec, "images", "DIR", null, "photos to measure (default: the models' samples/)");
        CommandArgs.value(spec, "out", "FILE", null, "where to write the ranges (default: stdout)");
        CommandArgs.value(spec, "models", "DIR", null, ModelsLocator.DESCRIPTION);
        return spec;
    }

    static int run(CommandArgs args, PrintStream out, PrintStream err) throws Exception {
        String augmented = args.option("augmented");
        if (augmented == null || !Files.isRegularFile(Path.of(augmented))) {
            throw new UsageException("--augmented FILE (made by models/quantize.py augment) is required");
        }
        Path models = ModelsLocator.locate(args.option("models"));
        Path images = Path.of(args.option("images", models.resolve("samples").toString()));
        List<Path> photos = ActivationRanges.photosIn(images);
        if (photos.isEmpty()) {
            throw new UsageException("no .jpg photos in " + images);
        }
        // The fp32 engine finds and aligns the faces; the augmented copy measures the activations.
        ActivationRanges ranges =
                ActivationRanges.collect(FaceEngineConfig.defaults(models), Path.of(augmented), photos);
        String json = toJson(ranges, photos);
        String target = args.option("out");
        if (target == null) {
            out.println(json);
        } else {
            Files.writeString(Path.of(target), json + "\n", StandardCharsets.UTF_8);
        }
        err.printf(
                Locale.ROOT,
                "activation-ranges: %d tensors over %d aligned faces from %d photos in %s%n",
                ranges.ranges().size(),
                ranges.faces(),
                photos.size(),
                images);
        return 0;
    }

    static String toJson(ActivationRanges ranges, List<Path> photos) throws Exception {
        ObjectNode o = Json.mapper().createObjectNode();
        o.put("model", "fr_feature.onnx");
        o.put("calibration", "every face found in the photos, aligned to 112x112, and its mirror image; min and max");
        photos.forEach(p -> o.withArray("photos").add(p.getFileName().toString()));
        o.put("faces", ranges.faces());
        o.put("min_cosine_to_fp32", ranges.minCosine());
        ObjectNode r = o.putObject("ranges");
        for (Map.Entry<String, float[]> e : ranges.ranges().entrySet()) {
            r.putArray(e.getKey()).add(e.getValue()[0]).add(e.getValue()[1]);
        }
        return Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(o);
    }
}
