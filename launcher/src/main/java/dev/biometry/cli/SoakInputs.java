package dev.biometry.cli;

import static org.bytedeco.opencv.global.opencv_core.CV_8UC3;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.biometry.api.Json;
import dev.biometry.face.FaceCrops;
import dev.biometry.face.FaceEngine;
import dev.biometry.face.FaceEngineConfig;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Scalar;

/**
 * The inputs of a soak run: valid two-photo analyses with a known verdict (the same face twice, two different
 * people, some re-using media ids so the embedding cache answers) and a rotation of hostile inputs (malformed or
 * oversized messages, corrupt, fake and oversized media, archive bombs, forbidden URIs, a colliding analysis id),
 * each with the answer it must get. Every message starts with an {@code x_soak} marker that its result's analysis
 * id or its dead letter's payload carries back, so every input can be accounted for.
 */
final class SoakInputs {

    /** What an input must be answered with. */
    enum Expect {
        /** a FINISHED analysis with resolution SUCCESS */
        SUCCESS,
        /** a FINISHED analysis with resolution DECLINED */
        DECLINED,
        /** a FAILED analysis */
        FAILED,
        /** a dead letter */
        DEAD_LETTER,
        /** either a final analysis or a dead letter */
        ANSWERED
    }

    /**
     * One message to send.
     *
     * @param marker the {@code x_soak} value of the message (also its analysis id when it has a usable one)
     * @param kind short name of the input kind, for the report
     * @param topic {@code requests} or {@code media}
     * @param key the Kafka key (folder id)
     * @param value the raw message bytes
     */
    record Message(String marker, String kind, Expect expect, String topic, String key, byte[] value) {}

    /** Hostile kinds in the order the rotation sends them. */
    static final List<String> HOSTILE_KINDS = List.of(
            "malformed-json",
            "not-utf8",
            "huge-type",
            "lone-surrogate-id",
            "corrupt-jpeg",
            "text-as-jpeg",
            "png-30000x30000",
            "zip-bomb",
            "big-shots-set",
            "path-traversal",
            "missing-file",
            "ssrf-metadata",
            "duplicate-analysis-id",
            "huge-meta-data",
            "deep-nesting",
            "malformed-media",
            "no-face");

    private final Path dir;
    private final Path alice;
    private final Path aliceMirrored;
    private final Path bob;
    private final Path noFace;
    private final Path corruptJpeg;
    private final Path textAsJpeg;
    private final Path hugePngHeader;
    private final Path zipBomb;
    private final Path bigShotsSet;
    private long valid;
    private long hostile;

    private SoakInputs(Path dir, Path models) throws Exception {
        this.dir = dir;
        Path samples = models.resolve("samples");
        alice = Files.copy(samples.resolve("sample3.jpg"), dir.resolve("alice.jpg"));
        bob = Files.copy(samples.resolve("sample1.jpg"), dir.resolve("bob.jpg"));
        aliceMirrored = dir.resolve("alice-mirrored.jpg");
        noFace = dir.resolve("no-face.jpg");
        try (FaceEngine engine = new FaceEngine(FaceEngineConfig.defaults(models));
                Mat grey = new Mat(480, 640, CV_8UC3, new Scalar(90, 140, 60, 0))) {
            Files.write(aliceMirrored, FaceCrops.mirroredCrop(engine, Files.readAllBytes(alice), "alice.jpg"));
            Files.write(noFace, FaceCrops.jpeg(grey));
        }
        byte[] corrupt = new byte[64 * 1024];
        new java.util.Random(7).nextBytes(corrupt);
        corrupt[0] = (byte) 0xFF;
        corrupt[1] = (byte) 0xD8;
        corrupt[2] = (byte) 0xFF;
        corruptJpeg = Files.write(dir.resolve("corrupt.jpg"), corrupt);
        textAsJpeg = Files.write(
                dir.resolve("text.jpg"), "this is not a picture\n".repeat(100).getBytes(StandardCharsets.UTF_8));
        hugePngHeader = Files.write(dir.resolve("huge-header.png"), HostileMedia.pngHeader(30_000, 30_000));
        zipBomb = dir.resolve("bomb.zip");
        Files.write(zipBomb, HostileMedia.zipBomb(200L << 20));
        bigShotsSet = dir.resolve("big-shots.zip");
        Files.write(bigShotsSet, HostileMedia.uniformShotsSet(6, 6000, 6000));
    }

    /** Writes the media files into {@code dir} (the run's media root). */
    static SoakInputs prepare(Path dir, Path models) throws Exception {
        return new SoakInputs(dir, models);
    }

    /** The folder file URIs may point into. */
    Path root() {
        return dir;
    }

    /**
     * The next valid analysis: same person and different people alternate; every third one names media ids that
     * earlier analyses already used, so the embedding cache answers.
     */
    Message nextValid() {
        long n = valid++;
        boolean same = n % 2 == 0;
        boolean reuse = n % 3 == 2;
        String marker = marker();
        String first = reuse ? "soak-alice" : UUID.randomUUID().toString();
        String second = reuse
                ? (same ? "soak-alice-mirrored" : "soak-bob")
                : UUID.randomUUID().toString();
        ObjectNode request = request(marker, UUID.randomUUID().toString());
        analysis(request, marker);
        ArrayNode media = request.putArray("media");
        media.add(media(first, alice, "photo_selfie"));
        media.add(media(second, same ? aliceMirrored : bob, "photo_id_front"));
        return new Message(
                marker,
                same ? "same-person" : "different-people",
                same ? Expect.SUCCESS : Expect.DECLINED,
                "requests",
                request.path("folder_id").asText(),
                bytes(request));
    }

    /** The next hostile input of the rotation; a colliding analysis id comes as two messages. */
    List<Message> nextHostile() {
        String kind = HOSTILE_KINDS.get((int) (hostile++ % HOSTILE_KINDS.size()));
        String marker = marker();
        String folder = UUID.randomUUID().toString();
        List<Message> out = new ArrayList<>();
        switch (kind) {
            case "malformed-json" ->
                out.add(raw(
                        marker,
                        kind,
                        Expect.DEAD_LETTER,
                        "requests",
                        folder,
                        ("{\"x_soak\":\"" + marker + "\",\"folder_id\":\"" + folder + "\",\"analyses\":[{\"type\":")
                                .getBytes(StandardCharsets.UTF_8)));
            case "not-utf8" -> {
                byte[] head = ("{\"x_soak\":\"" + marker + "\",\"folder_id\":\"").getBytes(StandardCharsets.UTF_8);
                byte[] value = ByteBuffer.allocate(head.length + 4)
                        .put(head)
                        .put(new byte[] {(byte) 0xC3, (byte) 0x28, '"', '}'})
                        .array();
                out.add(raw(marker, kind, Expect.DEAD_LETTER, "requests", folder, value));
            }
            case "huge-type" -> {
                ObjectNode r = request(marker, folder);
                analysis(r, marker).put("type", "x".repeat(600_000));
                twoPhotos(r);
                out.add(new Message(marker, kind, Expect.ANSWERED, "requests", folder, bytes(r)));
            }
            case "lone-surrogate-id" -> {
                // Written as a JSON backslash-u escape of a lone high surrogate: a JSON writer would not emit one
                // itself.
                ObjectNode r = request(marker, folder);
                analysis(r, "LONE-SURROGATE" + marker.substring(5));
                twoPhotos(r);
                out.add(raw(
                        marker,
                        kind,
                        Expect.DEAD_LETTER,
                        "requests",
                        folder,
                        Json.write(r).replace("LONE-SURROGATE", "\\ud800").getBytes(StandardCharsets.UTF_8)));
            }
            case "corrupt-jpeg" ->
                out.add(withSecond(
                        marker, kind, Expect.FAILED, folder, corruptJpeg.toUri().toString()));
            case "text-as-jpeg" ->
                out.add(withSecond(
                        marker, kind, Expect.FAILED, folder, textAsJpeg.toUri().toString()));
            case "png-30000x30000" ->
                out.add(withSecond(
                        marker,
                        kind,
                        Expect.FAILED,
                        folder,
                        hugePngHeader.toUri().toString()));
            case "zip-bomb" ->
                out.add(withSecond(
                        marker, kind, Expect.FAILED, folder, zipBomb.toUri().toString(), "SHOTS_SET"));
            case "big-shots-set" ->
                out.add(withSecond(
                        marker,
                        kind,
                        Expect.ANSWERED,
                        folder,
                        bigShotsSet.toUri().toString(),
                        "SHOTS_SET"));
            case "path-traversal" ->
                out.add(withSecond(marker, kind, Expect.FAILED, folder, dir.toUri() + "../../../../etc/passwd"));
            case "missing-file" ->
                out.add(withSecond(
                        marker,
                        kind,
                        Expect.FAILED,
                        folder,
                        dir.resolve("missing-" + marker + ".jpg").toUri().toString()));
            case "ssrf-metadata" ->
                out.add(withSecond(
                        marker, kind, Expect.FAILED, folder, "http://169.254.169.254/latest/meta-data/face.jpg"));
            case "duplicate-analysis-id" -> {
                // Two live requests with one analyse_id, in two folders.
                // The two travel on different partitions (their folders differ), so either may claim the id first:
                // each must be answered, one with its analysis and the other with a dead letter.
                Message valid = nextValid();
                Message first =
                        new Message(valid.marker(), kind, Expect.ANSWERED, valid.topic(), valid.key(), valid.value());
                out.add(first);
                String folder2 = UUID.randomUUID().toString();
                ObjectNode r = request(marker, folder2);
                analysis(r, first.marker());
                twoPhotos(r);
                out.add(new Message(marker, kind, Expect.ANSWERED, "requests", folder2, bytes(r)));
            }
            case "huge-meta-data" -> {
                ObjectNode r = request(marker, folder);
                analysis(r, marker).putObject("meta_data").put("blob", "m".repeat(700_000));
                twoPhotos(r);
                out.add(new Message(marker, kind, Expect.ANSWERED, "requests", folder, bytes(r)));
            }
            case "deep-nesting" ->
                out.add(raw(
                        marker,
                        kind,
                        Expect.DEAD_LETTER,
                        "requests",
                        folder,
                        ("{\"x_soak\":\"" + marker + "\",\"folder_id\":\"" + folder + "\",\"meta_data\":"
                                        + "[".repeat(20_000) + "]".repeat(20_000) + "}")
                                .getBytes(StandardCharsets.UTF_8)));
            case "malformed-media" ->
                out.add(raw(
                        marker,
                        kind,
                        Expect.DEAD_LETTER,
                        "media",
                        folder,
                        ("{\"x_soak\":\"" + marker + "\",\"folder_id\":\"" + folder + "\",\"media_id\":42,\"uri\":[]}")
                                .getBytes(StandardCharsets.UTF_8)));
            case "no-face" ->
                out.add(withSecond(
                        marker, kind, Expect.ANSWERED, folder, noFace.toUri().toString()));
            default -> throw new IllegalStateException(kind);
        }
        return out;
    }

    long validSent() {
        return valid;
    }

    private static String marker() {
        return "soak-" + UUID.randomUUID();
    }

    private static Message raw(String marker, String kind, Expect expect, String topic, String key, byte[] value) {
        return new Message(marker, kind, expect, topic, key, value);
    }

    /** A request whose second photo is {@code uri}; the first is a good selfie. */
    private Message withSecond(String marker, String kind, Expect expect, String folder, String uri) {
        return withSecond(marker, kind, expect, folder, uri, "IMAGE_FOLDER");
    }

    private Message withSecond(String marker, String kind, Expect expect, String folder, String uri, String mediaType) {
        ObjectNode r = request(marker, folder);
        analysis(r, marker);
        ArrayNode media = r.putArray("media");
        media.add(media(UUID.randomUUID().toString(), alice, "photo_selfie"));
        ObjectNode second = media.addObject();
        second.put("media_id", UUID.randomUUID().toString());
        second.put("media_type", mediaType);
        second.putArray("tags").add("photo_id_front");
        second.put("uri", uri);
        return new Message(marker, kind, expect, "requests", folder, bytes(r));
    }

    private void twoPhotos(ObjectNode request) {
        ArrayNode media = request.putArray("media");
        media.add(media(UUID.randomUUID().toString(), alice, "photo_selfie"));
        media.add(media(UUID.randomUUID().toString(), bob, "photo_id_front"));
    }

    private static ObjectNode request(String marker, String folder) {
        ObjectNode r = Json.mapper().createObjectNode();
        r.put("x_soak", marker); // first, so even a truncated dead-letter payload carries it
        r.put("folder_id", folder);
        return r;
    }

    private static ObjectNode analysis(ObjectNode request, String analyseId) {
        ObjectNode a = request.putArray("analyses").addObject();
        a.put("type", "biometry");
        a.put("analyse_id", analyseId);
        return a;
    }

    private static ObjectNode media(String id, Path file, String tag) {
        ObjectNode m = Json.mapper().createObjectNode();
        m.put("media_id", id);
        m.put("media_type", "IMAGE_FOLDER");
        m.putArray("tags").add(tag);
        m.put("uri", file.toUri().toString());
        return m;
    }

    private static byte[] bytes(ObjectNode json) {
        return Json.write(json).getBytes(StandardCharsets.UTF_8);
    }
}
