package dev.biometry.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.biometry.api.Json;
import dev.biometry.api.RequestLines;
import dev.biometry.face.FaceCrops;
import dev.biometry.face.FaceEngine;
import dev.biometry.face.FaceEngineConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The request lines the local runner feeds: read from the user's JSON-lines file (file URIs relative to that
 * file's folder are made absolute, missing analysis ids are filled in so results can be awaited), or a demo built
 * from the sample photos.
 */
final class LocalRequests {

    /** One request line ready to send: its folder (the Kafka key), JSON text, and the analyses it asks for. */
    record Line(int number, String folderId, String json, List<String> analyseIds) {}

    private LocalRequests() {}

    /**
     * Longest line sent, in bytes: a Kafka message is at most 1 MiB by default ({@code max.request.size},
     * {@code message.max.bytes}), which also holds the key and the record's framing.
     */
    static final int MAX_LINE_BYTES = 1_000_000;

    /**
     * The request lines of {@code file} (blank lines and {@code #} comments skipped). A line that cannot be sent is
     * reported on {@code err} with its number and left out, and reading goes on: a line above
     * {@value #MAX_LINE_BYTES} bytes, a line that is not UTF-8, and a line asking for an analysis id that an
     * earlier line (or the same line) already asks for (the second request would collide with the first).
     */
    static List<Line> fromFile(Path file, java.io.PrintStream err) throws IOException {
        Path base = file.toAbsolutePath().getParent();
        List<Line> lines = new ArrayList<>();
        java.util.Map<String, Integer> idLines = new java.util.HashMap<>();
        try (java.io.InputStream in = new java.io.BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            java.io.ByteArrayOutputStream buffer = new java.io.ByteArrayOutputStream();
            int number = 0;
            boolean end = false;
            while (!end) {
                buffer.reset();
                long length = 0;
                int b;
                while ((b = in.read()) != -1 && b != '\n') {
                    if (++length <= MAX_LINE_BYTES) {
                        buffer.write(b); // a longer line is only counted, never held
                    }
                }
                end = b == -1;
                if (end && length == 0) {
                    break;
                }
                number++;
                if (length > MAX_LINE_BYTES) {
                    err.printf(
                            java.util.Locale.ROOT,
                            "local: line %d skipped: %d bytes, above the limit of %d bytes " + "of a request message%n",
                            number,
                            length,
                            MAX_LINE_BYTES);
                    continue;
                }
                String raw;
                try {
                    raw = StandardCharsets.UTF_8
                            .newDecoder()
                            .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                            .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT)
                            .decode(java.nio.ByteBuffer.wrap(buffer.toByteArray()))
                            .toString()
                            .trim();
                } catch (java.nio.charset.CharacterCodingException e) {
                    err.printf(
                            java.util.Locale.ROOT,
                            "local: line %d skipped: not valid UTF-8 (request lines are " + "UTF-8 JSON)%n",
                            number);
                    continue;
                }
                if (raw.isEmpty() || raw.startsWith("#")) {
                    continue;
                }
                Line line = prepare(number, raw, base);
                String duplicate = null;
                java.util.Set<String> own = new java.util.HashSet<>();
                for (String id : line.analyseIds()) {
                    if (idLines.containsKey(id) || !own.add(id)) {
                        duplicate = id;
                        break;
                    }
                }
                if (duplicate != null) {
                    Integer first = idLines.get(duplicate);
                    err.printf(
                            java.util.Locale.ROOT,
                            "local: line %d skipped: analyse_id '%s' is already asked for " + "on line %d%n",
                            number,
                            duplicate,
                            first == null ? number : first);
                    continue;
                }
                for (String id : line.analyseIds()) {
                    idLines.put(id, number);
                }
                lines.add(line);
            }
        }
        return lines;
    }

    /** Resolves relative media URIs and fills in analysis ids (see {@link RequestLines}). */
    static Line prepare(int number, String raw, Path base) {
        RequestLines.Line line =
                RequestLines.prepare(raw, base, () -> UUID.randomUUID().toString());
        return new Line(number, line.folderId(), line.json(), line.analyseIds());
    }

    /**
     * Writes demo media into {@code dir} (sample photos, a mirrored crop of one face, a picture without a face) and
     * returns four requests: same person, different people, a folder with an ID back side, a photo without a face.
     */
    static List<Line> demo(Path dir, Path models) throws Exception {
        Path samples = models.resolve("samples");
        Path alice = Files.copy(samples.resolve("sample3.jpg"), dir.resolve("alice.jpg"));
        Path bob = Files.copy(samples.resolve("sample1.jpg"), dir.resolve("bob.jpg"));
        Path carol = Files.copy(samples.resolve("sample5.jpg"), dir.resolve("carol-id-back.jpg"));
        Path aliceAgain = dir.resolve("alice-mirrored.jpg");
        Path landscape = dir.resolve("no-face.jpg");
        try (FaceEngine engine = new FaceEngine(FaceEngineConfig.defaults(models));
                org.bytedeco.opencv.opencv_core.Mat grey = new org.bytedeco.opencv.opencv_core.Mat(
                        480,
                        640,
                        org.bytedeco.opencv.global.opencv_core.CV_8UC3,
                        new org.bytedeco.opencv.opencv_core.Scalar(90, 140, 60, 0))) {
            Files.write(aliceAgain, FaceCrops.mirroredCrop(engine, Files.readAllBytes(alice), "alice.jpg"));
            Files.write(landscape, FaceCrops.jpeg(grey));
        }
        List<Line> lines = new ArrayList<>();
        lines.add(demoRequest(
                1, "same person, two photos", media(alice, "photo_selfie"), media(aliceAgain, "photo_selfie")));
        lines.add(demoRequest(2, "two different people", media(alice, "photo_selfie"), media(bob, "photo_selfie")));
        lines.add(demoRequest(
                3,
                "ID back side is ignored",
                media(alice, "photo_selfie"),
                media(aliceAgain, "photo_selfie"),
                media(carol, "photo_id", "photo_id_back")));
        lines.add(demoRequest(
                4, "a photo without a face", media(alice, "photo_selfie"), media(landscape, "photo_selfie")));
        return lines;
    }

    private static ObjectNode media(Path file, String... tags) {
        ObjectNode m = Json.mapper().createObjectNode();
        m.put("media_id", UUID.randomUUID().toString());
        m.put("media_type", "IMAGE_FOLDER");
        ArrayNode t = m.putArray("tags");
        for (String tag : tags) {
            t.add(tag);
        }
        m.put("uri", file.toUri().toString());
        m.put("original_name", file.getFileName().toString());
        return m;
    }

    private static Line demoRequest(int number, String description, ObjectNode... media) {
        ObjectNode r = Json.mapper().createObjectNode();
        String folder = UUID.randomUUID().toString();
        String analysis = UUID.randomUUID().toString();
        r.put("folder_id", folder);
        ObjectNode a = r.putArray("analyses").addObject();
        a.put("type", "biometry");
        a.put("analyse_id", analysis);
        a.putObject("meta_data").put("demo", description);
        ArrayNode list = r.putArray("media");
        for (ObjectNode m : media) {
            list.add(m);
        }
        return new Line(number, folder, Json.write(r), List.of(analysis));
    }
}
