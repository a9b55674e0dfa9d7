package dev.biometry.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.bytedeco.opencv.global.opencv_core.CV_8UC3;
import static org.bytedeco.opencv.global.opencv_imgproc.GaussianBlur;
import static org.bytedeco.opencv.global.opencv_imgproc.INTER_AREA;
import static org.bytedeco.opencv.global.opencv_imgproc.resize;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import dev.biometry.face.FaceCrops;
import dev.biometry.media.ImageDecoder;
import dev.biometry.media.ImageHeaderCheck;
import dev.biometry.testing.JobRun;
import dev.biometry.testing.TestData;
import dev.biometry.testing.TestImages;
import dev.biometry.testing.TestMedia;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Scalar;
import org.bytedeco.opencv.opencv_core.Size;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every media kind and every refused media through one job run: video, shots set, ID card and HTTP media match
 * the same face (reporting the chosen face's box and score, and for videos and shots sets the frames used) and
 * decline another face; tiny, blurred, corrupt, truncated, oversized, mislabelled (by name or by HTTP Content-Type),
 * out-of-root, symlinked, non-allow-listed, redirected and unanswered media each give their documented error while
 * the job goes on with the next analysis.
 */
@org.junit.jupiter.api.Tag("integration")
class MediaKindsJobTest {

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER =
            new MiniClusterExtension(() -> new MiniClusterResourceConfiguration.Builder()
                    .setNumberTaskManagers(1)
                    .setNumberSlotsPerTaskManager(2)
                    .build());

    @TempDir
    static Path root;

    @TempDir
    static Path outside;

    private static JobRun run;
    private static HttpServer http;
    private static ServerSocket silent;
    private static final List<Socket> held = new ArrayList<>();
    private static final Map<String, String> uris = new LinkedHashMap<>();
    /** Width and height of the photos whose reported face box is checked. */
    private static final Map<String, long[]> sizes = new LinkedHashMap<>();

    @BeforeAll
    static void prepare() throws Exception {
        try (Mat alice = ImageDecoder.decode(TestData.read(TestData.samplePhoto(3)), "alice");
                Mat bob = ImageDecoder.decode(TestData.read(TestData.samplePhoto(1)), "bob");
                Mat grey = new Mat(720, 1280, CV_8UC3, new Scalar(128, 128, 128, 0));
                Mat small = new Mat();
                Mat blurred = new Mat();
                var engine = new dev.biometry.face.FaceEngine(
                        dev.biometry.face.FaceEngineConfig.defaults(TestData.modelsDir()))) {
            byte[] aliceMirrored = FaceCrops.mirroredCrop(engine, TestData.read(TestData.samplePhoto(3)), "alice");
            sizes.put("alice-mirrored.jpg", size(aliceMirrored));
            file("alice.jpg", TestData.read(TestData.samplePhoto(3)));
            file("alice-mirrored.jpg", aliceMirrored);
            file("bob.jpg", TestData.read(TestData.samplePhoto(1)));
            // A one-person clip: alice's face at three places of a 1280x720 frame, between empty frames.
            dev.biometry.face.Box box = new dev.biometry.face.MediaFaces(engine, dev.biometry.face.FacePolicy.DEFAULT)
                    .photo(alice, false)
                    .chosen()
                    .box();
            try (Mat left = portraitFrame(alice, box, 100);
                    Mat middle = portraitFrame(alice, box, 460);
                    Mat right = portraitFrame(alice, box, 820)) {
                file("alice.mp4", TestMedia.mp4(List.of(grey, left, middle, grey, right), 1280, 720, 10, 3));
                file("alice-shots.zip", TestMedia.shotsSet(List.of(grey, left, middle, right)));
            }
            try (Mat card = dev.biometry.face.MediaFacesTest.syntheticIdCard(engine, alice, 0.10)) {
                byte[] cardJpeg = FaceCrops.jpeg(card);
                sizes.put("alice-id-card.jpg", size(cardJpeg));
                file("alice-id-card.jpg", cardJpeg);
            }
            resize(alice, small, new Size(alice.cols() / 8, alice.rows() / 8), 0, 0, INTER_AREA);
            file("tiny-face.jpg", FaceCrops.jpeg(small));
            GaussianBlur(bob, blurred, new Size(0, 0), 6);
            file("blurred.jpg", FaceCrops.jpeg(blurred));
        }
        byte[] jpeg = TestData.read(TestData.samplePhoto(2));
        byte[] corrupt = Arrays.copyOf(jpeg, jpeg.length);
        Arrays.fill(corrupt, 20, corrupt.length, (byte) 0x55);
        file("corrupt.jpg", corrupt);
        byte[] png = TestImages.pngBytes(TestData.read(TestData.samplePhoto(2)));
        file("truncated.png", Arrays.copyOf(png, png.length / 3));
        file("huge-header.png", dev.biometry.cli.HostileMedia.pngHeader(30_000, 30_000));
        file("notes.jpg", "just some text, saved as .jpg\n".getBytes(StandardCharsets.UTF_8));
        byte[] big = new byte[20 << 20];
        System.arraycopy(jpeg, 0, big, 0, jpeg.length);
        file("twenty-mib.jpg", big);
        Path secret = Files.write(outside.resolve("secret.jpg"), jpeg);
        uris.put("outside-root", secret.toUri().toString());
        Files.createSymbolicLink(root.resolve("link.jpg"), secret);
        uris.put("symlink-out", root.resolve("link.jpg").toUri().toString());

        http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        http.createContext("/alice.jpg", exchange -> {
            byte[] body = Files.readAllBytes(root.resolve("alice-mirrored.jpg"));
            // A wrong Content-Type does not matter: the bytes say JPEG.
            exchange.getResponseHeaders().add("Content-Type", "text/plain; charset=utf-8");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        http.createContext("/notes.jpg", exchange -> {
            // Text served as image/jpeg: the header does not make it an image.
            byte[] body = Files.readAllBytes(root.resolve("notes.jpg"));
            exchange.getResponseHeaders().add("Content-Type", "image/jpeg");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        int port = http.getAddress().getPort();
        http.createContext("/redirect", exchange -> {
            exchange.getResponseHeaders().add("Location", "http://127.0.0.1:" + port + "/alice.jpg");
            exchange.sendResponseHeaders(302, -1);
            exchange.close();
        });
        http.start();
        uris.put("http-ok", "http://localhost:" + port + "/alice.jpg");
        uris.put("http-not-allowed", "http://127.0.0.1:" + port + "/alice.jpg");
        uris.put("http-redirect-out", "http://localhost:" + port + "/redirect");
        uris.put("http-text-as-jpeg", "http://localhost:" + port + "/notes.jpg");
        silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(() -> {
            try {
                while (true) {
                    held.add(silent.accept());
                }
            } catch (Exception closed) {
                // server closed at the end of the test
            }
        });
        acceptor.setDaemon(true);
        acceptor.start();
        uris.put("http-silent", "http://localhost:" + silent.getLocalPort() + "/never.jpg");

        run = new JobRun(Map.of(
                "media-roots",
                root.toString(),
                "http-allow-hosts",
                "localhost",
                "http-allow-private",
                "true",
                "http-timeout",
                "3s",
                "http-connect-timeout",
                "2s"));
    }

    @AfterAll
    static void stop() throws Exception {
        run.close();
        http.stop(0);
        silent.close();
        for (Socket s : held) {
            s.close();
        }
    }

    /** A grey 1280x720 frame with the face in {@code box} of {@code photo} (and a margin) 400 px tall at x. */
    private static Mat portraitFrame(Mat photo, dev.biometry.face.Box box, int x) {
        Mat frame = new Mat(720, 1280, CV_8UC3, new Scalar(110, 120, 130, 0));
        try (org.bytedeco.opencv.opencv_core.Rect src = FaceCrops.around(box, 1.5f, photo.cols(), photo.rows());
                Mat crop = new Mat(photo, src);
                Mat scaled = new Mat()) {
            resize(crop, scaled, new Size(400 * crop.cols() / crop.rows(), 400), 0, 0, INTER_AREA);
            try (org.bytedeco.opencv.opencv_core.Rect dst =
                            new org.bytedeco.opencv.opencv_core.Rect(x, 160, scaled.cols(), scaled.rows());
                    Mat at = new Mat(frame, dst)) {
                scaled.copyTo(at);
            }
        }
        return frame;
    }

    private static long[] size(byte[] image) {
        ImageHeaderCheck.Dimensions d = ImageHeaderCheck.dimensions(image).orElseThrow();
        return new long[] {d.width(), d.height()};
    }

    private static void file(String name, byte[] bytes) throws Exception {
        uris.put(name, TestImages.write(root, name, bytes).toUri().toString());
    }

    /** Starts one analysis of a good selfie against {@code media}; returns the analysis id. */
    private static String against(String mediaName, String type, String... tags) throws Exception {
        String folder = JobRun.newId();
        return run.request(
                folder,
                null,
                JobRun.media(folder, "selfie", uris.get("alice-mirrored.jpg"), "IMAGE_FOLDER"),
                JobRun.media(folder, "other", uris.get(mediaName), type, tags));
    }

    @Test
    void everyMediaKindAndEveryRefusalInOneJobRun() throws Exception {
        run.startJob();
        Map<String, String> ids = new LinkedHashMap<>();
        ids.put("video same", against("alice.mp4", "VIDEO_FOLDER", "video_selfie"));
        ids.put("video other", againstBob("alice.mp4", "VIDEO_FOLDER"));
        ids.put("shots same", against("alice-shots.zip", "SHOTS_SET", "video_selfie"));
        ids.put("shots other", againstBob("alice-shots.zip", "SHOTS_SET"));
        ids.put("id card", against("alice-id-card.jpg", "IMAGE_FOLDER", "photo_id", "photo_id_front"));
        ids.put("http ok", against("http-ok", "IMAGE_FOLDER"));
        String[] refused = {
            "tiny-face.jpg",
            "blurred.jpg",
            "corrupt.jpg",
            "truncated.png",
            "huge-header.png",
            "notes.jpg",
            "twenty-mib.jpg",
            "outside-root",
            "symlink-out",
            "http-not-allowed",
            "http-redirect-out",
            "http-silent",
            "http-text-as-jpeg"
        };
        for (String name : refused) {
            ids.put(name, against(name, "IMAGE_FOLDER"));
        }
        ids.put("after all that", against("alice.jpg", "IMAGE_FOLDER"));

        JsonNode video = run.finalResult(ids.get("video same"));
        assertThat(video.get("resolution_status").asText()).as(video.toString()).isEqualTo("SUCCESS");
        JsonNode videoMedia = video.get("results_media").get(1);
        assertThat(videoMedia.get("source_video_id").asText()).isEqualTo("other");
        assertThat(videoMedia.at("/results_data/frame_indices")).isNotEmpty();
        assertThat(videoMedia.at("/results_data/frame_indices").size()).isLessThanOrEqualTo(3);
        assertThat(videoMedia.at("/results_data/best_shot_score").asDouble()).isPositive();
        assertFaceInside(videoMedia, 1280, 720);

        assertThat(run.finalResult(ids.get("video other"))
                        .get("resolution_status")
                        .asText())
                .isEqualTo("DECLINED");
        JsonNode shots = run.finalResult(ids.get("shots same"));
        assertThat(shots.get("resolution_status").asText()).as(shots.toString()).isEqualTo("SUCCESS");
        JsonNode shotsMedia = shots.at("/results_media/1");
        assertThat(shotsMedia.get("source_shots_set_id").asText()).isEqualTo("other");
        // Entries 0..3 are grey, left, middle, right: the faceless entry 0 is never used, the three faces are.
        assertThat(shotsMedia.at("/results_data/frame_indices"))
                .as(shotsMedia.toString())
                .extracting(n -> n.asInt())
                .containsExactly(1, 2, 3);
        assertThat(shotsMedia.at("/results_data/best_shot_score").asDouble()).isPositive();
        assertFaceInside(shotsMedia, 1280, 720);
        JsonNode shotsOther = run.finalResult(ids.get("shots other"));
        assertThat(shotsOther.get("resolution_status").asText())
                .as(shotsOther.toString())
                .isEqualTo("DECLINED");
        assertThat(shotsOther.at("/results_media/1/results_data/frame_indices")).isNotEmpty();
        JsonNode card = run.finalResult(ids.get("id card"));
        assertThat(card.get("resolution_status").asText()).as(card.toString()).isEqualTo("SUCCESS");
        long[] cardSize = sizes.get("alice-id-card.jpg");
        JsonNode cardMedia = card.at("/results_media/1");
        assertFaceInside(cardMedia, cardSize[0], cardSize[1]);
        // The portrait on the left, not the ghost image at the bottom right.
        assertThat(cardMedia.at("/results_data/face_box/2").asInt()).isLessThan((int) cardSize[0] / 2);
        assertThat(cardMedia.at("/results_data/frame_indices").isMissingNode())
                .as("a photo has no frames")
                .isTrue();
        JsonNode overHttp = run.finalResult(ids.get("http ok"));
        assertThat(overHttp.get("resolution_status").asText())
                .as(overHttp.toString())
                .isEqualTo("SUCCESS");
        long[] photoSize = sizes.get("alice-mirrored.jpg");
        assertFaceInside(overHttp.at("/results_media/0"), photoSize[0], photoSize[1]);
        assertFaceInside(overHttp.at("/results_media/1"), photoSize[0], photoSize[1]);

        expectDeclined(ids.get("tiny-face.jpg"), "face quality too low", "40 px");
        expectDeclined(ids.get("blurred.jpg"), "face quality too low", "sharpness");
        expectFailed(ids.get("corrupt.jpg"), 4, "media other: ", "not a decodable");
        expectFailed(ids.get("truncated.png"), 4, "media other: ", "not a decodable");
        expectFailed(ids.get("huge-header.png"), 4, "30000 x 30000");
        expectFailed(ids.get("notes.jpg"), 4, "not a JPEG or PNG");
        expectFailed(ids.get("twenty-mib.jpg"), 4, "larger than");
        expectFailed(ids.get("outside-root"), 4, "outside the configured media roots");
        expectFailed(ids.get("symlink-out"), 4, "outside the configured media roots");
        expectFailed(ids.get("http-not-allowed"), 4, "allow");
        expectFailed(ids.get("http-redirect-out"), 4, "allow");
        expectFailed(ids.get("http-silent"), 11, "media other: ", "timed out");
        expectFailed(ids.get("http-text-as-jpeg"), 4, "not a JPEG or PNG");

        JsonNode last = run.finalResult(ids.get("after all that"));
        assertThat(last.get("resolution_status").asText()).as(last.toString()).isEqualTo("SUCCESS");
    }

    private static String againstBob(String mediaName, String type) throws Exception {
        String folder = JobRun.newId();
        return run.request(
                folder,
                null,
                JobRun.media(folder, "selfie", uris.get("bob.jpg"), "IMAGE_FOLDER"),
                JobRun.media(folder, "other", uris.get(mediaName), type, "video_selfie"));
    }

    /**
     * The media's {@code results_data} names the face it was matched by: {@code face_box} [x1,y1,x2,y2] inside the
     * width x height image, and a {@code face_score} that passed the default gate (0.8).
     */
    private static void assertFaceInside(JsonNode media, long width, long height) {
        JsonNode data = media.get("results_data");
        JsonNode box = data.get("face_box");
        assertThat(box).as(media.toString()).isNotNull();
        assertThat(box.size()).isEqualTo(4);
        int x1 = box.get(0).asInt();
        int y1 = box.get(1).asInt();
        int x2 = box.get(2).asInt();
        int y2 = box.get(3).asInt();
        assertThat(x1).as("x1 of " + box).isBetween(0, x2 - 40);
        assertThat(y1).as("y1 of " + box).isBetween(0, y2 - 40);
        assertThat((long) x2).as("x2 of " + box).isLessThanOrEqualTo(width);
        assertThat((long) y2).as("y2 of " + box).isLessThanOrEqualTo(height);
        assertThat(data.get("face_score").asDouble()).as(media.toString()).isBetween(0.8, 1.0);
    }

    private static void expectDeclined(String analysisId, String... messageParts) throws Exception {
        JsonNode r = run.finalResult(analysisId);
        assertThat(r.get("state").asText()).as(r.toString()).isEqualTo("FINISHED");
        assertThat(r.get("resolution_status").asText()).isEqualTo("DECLINED");
        JsonNode error = r.at("/results_media/1/error");
        assertThat(error.get("code").asInt()).isEqualTo(4);
        assertThat(error.get("message").asText()).contains(messageParts);
    }

    private static void expectFailed(String analysisId, int code, String... messageParts) throws Exception {
        JsonNode r = run.finalResult(analysisId);
        assertThat(r.get("state").asText()).as(r.toString()).isEqualTo("FAILED");
        assertThat(r.get("error_code").asInt()).as(r.toString()).isEqualTo(code);
        assertThat(r.get("error_message").asText()).contains(messageParts);
    }
}
