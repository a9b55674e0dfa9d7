package dev.biometry.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Where tests find the models, the sample photos and the labelled dev set. Models and samples are fetched by
 * {@code models/fetch.sh} before the tests run, so their absence fails a test; the dev set is optional and its
 * absence skips the tests that need it, saying so.
 */
public final class TestData {

    private TestData() {}

    public static Path modelsDir() {
        Path dir = Path.of(System.getProperty("biometry.models.dir", "../models"))
                .toAbsolutePath()
                .normalize();
        assertThat(dir.resolve("fr_feature.onnx"))
                .as("models missing in %s: run models/fetch.sh first", dir)
                .isRegularFile();
        return dir;
    }

    public static List<Path> samplePhotos() {
        Path dir = modelsDir().resolve("samples");
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> photos = files.filter(p -> p.getFileName().toString().endsWith(".jpg"))
                    .sorted()
                    .toList();
            assertThat(photos)
                    .as("sample photos in %s: run models/fetch.sh first", dir)
                    .hasSize(6);
            return photos;
        } catch (IOException e) {
            throw new AssertionError("sample photos missing in " + dir + ": run models/fetch.sh first", e);
        }
    }

    public static Path samplePhoto(int number) {
        return samplePhotos().get(number - 1);
    }

    /** The labelled dev set; skips the calling test with a message when it is not there. */
    public static Path facesDevOrSkip() {
        String configured = System.getProperty("biometry.faces.dir", "../../shared/faces-dev");
        Path dir = Path.of(configured).toAbsolutePath().normalize();
        boolean present = Files.isDirectory(dir);
        if (!present) {
            System.err.println("SKIPPED: labelled dev set not found at " + dir
                    + " (set -Dbiometry.faces.dir=DIR to a folder with one sub-folder per person)");
        }
        assumeTrue(present, "labelled dev set not found at " + dir + "; set -Dbiometry.faces.dir");
        return dir;
    }

    /** The repository's root folder (tests run in {@code jobs/}). */
    public static Path repoRoot() {
        Path root = Path.of(System.getProperty("biometry.repo.dir", ".."))
                .toAbsolutePath()
                .normalize();
        assertThat(root.resolve("docker/flink/config.yaml"))
                .as("repository root %s", root)
                .isRegularFile();
        return root;
    }

    /**
     * The path of the command {@code name} (a Debian package's binary that {@code .ci/run} installs). When it is
     * missing, a CI run ({@code CI} set) fails and any other run skips the calling test, saying so.
     */
    public static Path toolOrSkip(String name, String debianPackage) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            Path candidate = Path.of(dir, name);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        String message = name + " not found on PATH: install it with `apt-get install " + debianPackage
                + "` (bash .ci/run does)";
        assertThat(System.getenv("CI")).as(message).isNull();
        System.err.println("SKIPPED: " + message);
        assumeTrue(false, message);
        return null;
    }

    public static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
