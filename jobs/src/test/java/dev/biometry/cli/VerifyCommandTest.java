package dev.biometry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bytedeco.opencv.global.opencv_imgproc.GaussianBlur;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.biometry.api.Json;
import dev.biometry.face.Box;
import dev.biometry.face.FaceCrops;
import dev.biometry.face.FaceEngine;
import dev.biometry.face.FaceEngineConfig;
import dev.biometry.face.FacePolicy;
import dev.biometry.face.MediaFaces;
import dev.biometry.face.MediaFacesTest;
import dev.biometry.media.ImageDecoder;
import dev.biometry.testing.TestData;
import dev.biometry.testing.TestImages;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Rect;
import org.bytedeco.opencv.opencv_core.Size;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code verify} and the job ({@code batch}: {@link dev.biometry.pipeline.BiometryJob} on a MiniCluster) give the
 * same analysis on the same photos under the same face options: the same verdicts, confidences, faces and per-media
 * errors, including a face below the quality gate (blurred) and a photo refused by the face policy {@code reject}
 * (two faces). Before verify went through the job's media analyzer it matched both of those.
 */
@org.junit.jupiter.api.Tag("integration")
class VerifyCommandTest {

    @Test
    void verifyAndTheJobAgreeIncludingGatedFaces(@TempDir Path dir) throws Exception {
        Path photos = Files.createDirectories(dir.resolve("photos"));
        try (FaceEngine engine = new FaceEngine(FaceEngineConfig.defaults(TestData.modelsDir()));
                Mat alice = ImageDecoder.decode(TestData.read(TestData.samplePhoto(3)), "alice");
                Mat bob = ImageDecoder.decode(TestData.read(TestData.samplePhoto(1)), "bob");
                Mat blurred = new Mat();
                Mat scene = MediaFacesTest.twoFaces(engine, alice, bob)) {
            // Samples 1 and 3 show other faces around their main one: the selfies are tight crops of the main face.
            byte[] bobSelfie = selfie(engine, bob, "bob");
            TestImages.write(photos, "bob.jpg", bobSelfie);
            TestImages.write(photos, "bob.png", TestImages.pngBytes(bobSelfie));
            TestImages.write(photos, "alice.jpg", selfie(engine, alice, "alice"));
            GaussianBlur(bob, blurred, new Size(0, 0), 6);
            TestImages.write(photos, "blurred.jpg", selfie(engine, blurred, "bob"));
            // PNG: decoded at full size, so both faces are seen (as in MediaFacesTest).
            TestImages.write(photos, "two-faces.png", TestImages.pngBytes(TestImages.jpeg(scene)));
        }
        Map<String, List<String>> cases = new LinkedHashMap<>();
        cases.put("same", List.of("bob.jpg", "bob.png"));
        cases.put("different", List.of("bob.jpg", "alice.jpg"));
        cases.put("blurred", List.of("bob.jpg", "blurred.jpg"));
        cases.put("two-faces", List.of("bob.jpg", "two-faces.png"));
        String[] faceOptions = {"--face-policy", "reject", "--threshold", "0.8"};

        StringBuilder requests = new StringBuilder();
        for (Map.Entry<String, List<String>> c : cases.entrySet()) {
            ObjectNode r = Json.mapper().createObjectNode();
            r.put("folder_id", "folder-" + c.getKey());
            r.putArray("analyses").addObject().put("type", "biometry").put("analyse_id", c.getKey());
            ArrayNode media = r.putArray("media");
            for (String file : c.getValue()) {
                media.addObject()
                        .put("media_id", file)
                        .put("media_type", "IMAGE_FOLDER")
                        .put("uri", "photos/" + file)
                        .putArray("tags")
                        .add("photo_selfie");
            }
            requests.append(Json.write(r)).append('\n');
        }
        Path input = Files.writeString(dir.resolve("requests.jsonl"), requests.toString());
        Path output = dir.resolve("results.jsonl");
        List<String> batch = new ArrayList<>(List.of(
                "batch",
                "--input",
                input.toString(),
                "--output",
                output.toString(),
                "--models",
                TestData.modelsDir().toString(),
                "--parallelism",
                "1"));
        batch.addAll(List.of(faceOptions));
        run(batch);
        Map<String, JsonNode> job = new HashMap<>();
        for (String line : Files.readAllLines(output)) {
            JsonNode result = Json.mapper().readTree(line);
            job.put(result.get("analyse_id").asText(), result);
        }
        assertThat(job).containsOnlyKeys(cases.keySet());

        for (Map.Entry<String, List<String>> c : cases.entrySet()) {
            List<String> verify = new ArrayList<>(
                    List.of("verify", "--models", TestData.modelsDir().toString()));
            c.getValue().forEach(file -> verify.add(photos.resolve(file).toString()));
            verify.addAll(List.of(faceOptions));
            JsonNode fromVerify = Json.mapper().readTree(run(verify));
            assertThat(comparable(fromVerify)).as(c.getKey()).isEqualTo(comparable(job.get(c.getKey())));
        }
        // The cases are what they claim to be.
        assertThat(job.get("same").get("resolution_status").asText())
                .as(job.toString())
                .isEqualTo("SUCCESS");
        assertThat(job.get("different").get("resolution_status").asText()).isEqualTo("DECLINED");
        assertThat(job.get("blurred").get("resolution_status").asText()).isEqualTo("DECLINED");
        assertThat(job.get("blurred").at("/results_media/1/error/message").asText())
                .contains("face quality too low")
                .contains("sharpness");
        assertThat(job.get("two-faces").get("resolution_status").asText()).isEqualTo("DECLINED");
        assertThat(job.get("two-faces").at("/results_media/1/error/message").asText())
                .contains("2 faces found; the face policy 'reject'");
    }

    /** A JPEG of the region around the main face of {@code photo} (found on {@code sharp}'s copy for a blur). */
    private static byte[] selfie(FaceEngine engine, Mat photo, String name) throws Exception {
        Mat found = name.equals("bob")
                ? ImageDecoder.decode(TestData.read(TestData.samplePhoto(1)), name)
                : ImageDecoder.decode(TestData.read(TestData.samplePhoto(3)), name);
        try (found) {
            Box main = new MediaFaces(engine, FacePolicy.ACCEPT_ALL)
                    .photo(found, false)
                    .chosen()
                    .box();
            try (Rect around = FaceCrops.around(main, 1.4f, photo.cols(), photo.rows());
                    Mat crop = new Mat(photo, around)) {
                return TestImages.jpeg(crop);
            }
        }
    }

    /**
     * What verify and the job must agree on: state, verdict, analysis-level results and per media its results
     * (without the time taken) and error (its message without the media's name, a file name or a media id).
     */
    private static JsonNode comparable(JsonNode result) {
        ObjectNode out = Json.mapper().createObjectNode();
        out.set("state", result.get("state"));
        out.set("resolution_status", result.get("resolution_status"));
        out.set("params", result.get("params"));
        out.set("results_data", result.get("results_data"));
        out.set("error_code", result.get("error_code"));
        ArrayNode media = out.putArray("results_media");
        for (JsonNode m : result.path("results_media")) {
            ObjectNode data = m.get("results_data").deepCopy();
            data.remove("processing_ms");
            ObjectNode entry = media.addObject();
            entry.set("results_data", data);
            if (m.has("error")) {
                String message = m.at("/error/message").asText();
                entry.put("error_code", m.at("/error/code").asInt());
                entry.put("error_message", message.substring(message.indexOf(": ") + 2));
            }
        }
        return out;
    }

    private static String run(List<String> args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(
                args.toArray(String[]::new),
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertThat(code).as(err.toString(StandardCharsets.UTF_8)).isZero();
        return out.toString(StandardCharsets.UTF_8);
    }
}
