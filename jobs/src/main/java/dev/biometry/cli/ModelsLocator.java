package dev.biometry.cli;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Finds the models folder: {@code --models}, then {@code $BIOMETRY_MODELS_DIR}, then {@code ./models}, then
 * {@code models/} of the checkout the running jar was built in ({@code jobs/target/../../models}).
 */
final class ModelsLocator {

    private ModelsLocator() {}

    /** The usage text of a {@code --models} option. */
    static final String DESCRIPTION =
            "folder of the face models (default: $BIOMETRY_MODELS_DIR, ./models, then the checkout's models/)";

    static Path locate(String option) {
        List<Path> candidates = new ArrayList<>();
        if (option != null) {
            candidates.add(Path.of(option));
        } else {
            String env = System.getenv("BIOMETRY_MODELS_DIR");
            if (env != null && !env.isBlank()) {
                candidates.add(Path.of(env));
            }
            candidates.add(Path.of("models"));
            jarDir().ifPresent(dir -> candidates.add(dir.resolve("../../models")));
        }
        for (Path c : candidates) {
            if (Files.isRegularFile(c.resolve("fr_feature.onnx"))) {
                return c.toAbsolutePath().normalize();
            }
        }
        throw new UsageException(
                "face models not found (looked in " + candidates + "); run models/fetch.sh or pass --models DIR");
    }

    private static java.util.Optional<Path> jarDir() {
        try {
            Path location = Path.of(ModelsLocator.class
                    .getProtectionDomain()
                    .getCodeSource()
                    .getLocation()
                    .toURI());
            return java.util.Optional.ofNullable(location.getParent());
        } catch (URISyntaxException | RuntimeException e) {
            return java.util.Optional.empty();
        }
    }
}
