package dev.biometry.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.biometry.api.Json;
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

    static List<Line> fromFile(Path file) throws IOException {
        Path base = file.toAbsolutePath().getParent();
        List<Line> lines = new ArrayList<>();
        List<String> text = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int i = 0; i < text.size(); i++) {
            String raw = text.get(i).trim();
            if (raw.isEmpty() || raw.startsWith("#")) {
                continue;
            }
            lines.add(prepare(i + 1, raw, base));
        }
        return lines;
    }

    /** Resolves relative media URIs and fills in analysis ids; a line that is not a JSON object is sent as is. */
    static Line prepare(int number, String raw, Path base) {
        JsonNode node;
        try {
            node = Json.mapper().readTree(raw);
        } catch (IOException e) {
            return new Line(number, null, raw, List.of());
        }
        if (!(node instanceof ObjectNode request)) {
            return new Line(number, null, raw, List.of());
        }
        if (request.get("media") instanceof ArrayNode media) {
            for (JsonNode m : media) {
                if (m instanceof ObjectNode mo && mo.get("uri") != null && mo.get("uri").isTextual()) {
                    mo.put("uri", absoluteUri(mo.get("uri").asText(), base));
                }
            }
        }
        List<String> ids = new ArrayList<>();
        if (request.get("analyses") instanceof ArrayNode analyses) {
            for (JsonNode a : analyses) {
                if (a instanceof ObjectNode ao) {
                    JsonNode id = ao.has("analyse_id") ? ao.get("analyse_id") : ao.get("analysis_id");
                    if (id == null || id.isNull()) {
                        ao.put("analyse_id", UUID.randomUUID().toString());
                        id = ao.get("analyse_id");
                    }
                    ids.add(id.asText());
                }
            }
        }
        String folder = request.get("folder_id") == null ? null : request.get("folder_id").asText();
        return new Line(number, folder, Json.write(request), ids);
    }

    /** A URI without a scheme is a path relative to the requests file's folder. */
    static String absoluteUri(String uri, Path base) {
        if (uri.matches("^[a-zA-Z][a-zA-Z0-9+.-]*:.*")) {
            return uri;
        }
        return base.resolve(uri).normalize().toUri().toString();
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
                org.bytedeco.opencv.opencv_core.Mat grey = new org.bytedeco.opencv.opencv_core.Mat(480, 640,
                        org.bytedeco.opencv.global.opencv_core.CV_8UC3,
                        new org.bytedeco.opencv.opencv_core.Scalar(90, 140, 60, 0))) {
            Files.write(aliceAgain, FaceCrops.mirroredCrop(engine, Files.readAllBytes(alice), "alice.jpg"));
            Files.write(landscape, FaceCrops.jpeg(grey));
        }
        List<Line> lines = new ArrayList<>();
        lines.add(demoRequest(1, "same person, two photos", media(alice, "photo_selfie"), media(aliceAgain, "photo_selfie")));
        lines.add(demoRequest(2, "two different people", media(alice, "photo_selfie"), media(bob, "photo_selfie")));
        lines.add(demoRequest(3, "ID back side is ignored", media(alice, "photo_selfie"), media(aliceAgain, "photo_selfie"),
                media(carol, "photo_id", "photo_id_back")));
        lines.add(demoRequest(4, "a photo without a face", media(alice, "photo_selfie"), media(landscape, "photo_selfie")));
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
