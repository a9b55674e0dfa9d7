package dev.biometry.cli;

import static org.bytedeco.opencv.global.opencv_core.BORDER_CONSTANT;
import static org.bytedeco.opencv.global.opencv_core.copyMakeBorder;
import static org.bytedeco.opencv.global.opencv_imgproc.INTER_AREA;
import static org.bytedeco.opencv.global.opencv_imgproc.INTER_LINEAR;
import static org.bytedeco.opencv.global.opencv_imgproc.resize;

import dev.biometry.face.FaceCrops;
import dev.biometry.media.ImageDecoder;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Scalar;
import org.bytedeco.opencv.opencv_core.Size;

/**
 * The benchmark's media: photos scaled (aspect kept) and padded to exactly 1920x1080, written as JPEGs into a
 * temporary folder that is the job's media root. {@link #freshFile} hands out a new hard link to one of them, so
 * every analysis names files never seen before (the embedding cache is keyed by media id and URI).
 */
final class BenchImages implements AutoCloseable {

    static final int WIDTH = 1920;
    static final int HEIGHT = 1080;

    /** One prepared 1920x1080 JPEG. */
    record Image(String name, Path file, byte[] jpeg) {}

    private final Path root;
    private final Path links;
    private final List<Image> images;

    private BenchImages(Path root, List<Image> images) throws IOException {
        this.root = root;
        this.links = Files.createDirectories(root.resolve("links"));
        this.images = images;
    }

    /** Writes a 1920x1080 JPEG for every JPEG/PNG in {@code sourceDir} into a new temporary folder. */
    static BenchImages prepare(Path sourceDir) throws Exception {
        List<Path> sources;
        try (Stream<Path> s = Files.list(sourceDir)) {
            sources = s.filter(EvaluateCommand::isImage).sorted().toList();
        }
        if (sources.isEmpty()) {
            throw new UsageException("no JPEG/PNG images in " + sourceDir);
        }
        Path root = Files.createTempDirectory("biometry-bench");
        List<Image> images = new ArrayList<>();
        for (Path source : sources) {
            String name = source.getFileName().toString().replaceAll("\\.[^.]*$", "") + "-1080p.jpg";
            byte[] jpeg = to1080p(Files.readAllBytes(source), source.toString());
            Path file = Files.write(root.resolve(name), jpeg);
            images.add(new Image(name, file, jpeg));
        }
        return new BenchImages(root, images);
    }

    /** Scales the image to fit 1920x1080 and pads it (centred, grey) to exactly that size. */
    static byte[] to1080p(byte[] encoded, String name) throws Exception {
        try (Mat original = ImageDecoder.decode(encoded, name);
                Mat scaled = new Mat();
                Mat padded = new Mat()) {
            double scale = Math.min(WIDTH / (double) original.cols(), HEIGHT / (double) original.rows());
            int w = Math.min(WIDTH, (int) Math.round(original.cols() * scale));
            int h = Math.min(HEIGHT, (int) Math.round(original.rows() * scale));
            try (Size size = new Size(w, h);
                    Scalar grey = new Scalar(128, 128, 128, 0)) {
                resize(original, scaled, size, 0, 0, scale < 1 ? INTER_AREA : INTER_LINEAR);
                int left = (WIDTH - w) / 2;
                int top = (HEIGHT - h) / 2;
                copyMakeBorder(scaled, padded, top, HEIGHT - h - top, left, WIDTH - w - left, BORDER_CONSTANT, grey);
            }
            if (padded.cols() != WIDTH || padded.rows() != HEIGHT) {
                throw new IllegalStateException("padding gave " + padded.cols() + "x" + padded.rows());
            }
            return FaceCrops.jpeg(padded);
        }
    }

    /** The media root (for {@code --media-roots}). */
    Path root() {
        return root;
    }

    List<Image> images() {
        return images;
    }

    /** Keeps only the images at {@code indices} (those in which the engine finds a usable face). */
    void retain(List<Integer> indices) {
        List<Image> kept = indices.stream().map(images::get).toList();
        images.clear();
        images.addAll(kept);
    }

    /** A new path (hard link, or copy where links are not possible) to image {@code index}, never handed out before. */
    Path freshFile(int index) throws IOException {
        Image image = images.get(index % images.size());
        Path link = links.resolve(UUID.randomUUID() + "-" + image.name());
        try {
            return Files.createLink(link, image.file());
        } catch (FileSystemException | UnsupportedOperationException e) {
            return Files.copy(image.file(), link);
        }
    }

    double meanJpegKilobytes() {
        return images.stream().mapToInt(i -> i.jpeg().length).average().orElse(0) / 1024.0;
    }

    @Override
    public void close() throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
