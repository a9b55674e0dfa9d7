package dev.biometry.cluster;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The scenario's analyses, one self-contained request each (inline media): 2 to 4 photos made from the sample
 * photos; every other folder shows one person (the same photo, also as a byte copy under another name), the
 * others different photos; 3 media in 5 re-use a media id (same URI) of other analyses so the embedding cache is
 * hit; every 4th analysis has a resolution_endpoint on the loopback webhook receiver.
 */
final class Workload {

    /** One request: its key (folder id), analysis id, JSON line, and webhook endpoint (or null). */
    record Request(String folderId, String analysisId, String json, String endpoint) {}

    private final List<Request> requests = new ArrayList<>();
    final Path mediaRoot;

    private Workload(Path mediaRoot, String tag, List<Path> photos, List<Path> copies, WebhookReceiver receiver) {
        this.mediaRoot = mediaRoot;
        this.tag = tag;
        this.photos = photos;
        this.copies = copies;
        this.receiver = receiver;
    }

    static Workload create(String tag, Path samples, Path mediaRoot, WebhookReceiver receiver) throws IOException {
        Files.createDirectories(mediaRoot);
        List<Path> photos;
        try (Stream<Path> s = Files.list(samples)) {
            photos = s.filter(p -> p.getFileName().toString().endsWith(".jpg"))
                    .sorted()
                    .toList();
        }
        if (photos.size() < 4) {
            throw new IllegalStateException("need at least 4 sample photos in " + samples + ", found " + photos.size());
        }
        List<Path> copies = new ArrayList<>();
        for (Path p : photos) {
            Files.copy(p, mediaRoot.resolve(p.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            Path copy = mediaRoot.resolve(p.getFileName().toString().replace(".jpg", "-copy.jpg"));
            Files.copy(p, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            copies.add(copy);
        }
        return new Workload(mediaRoot, tag, photos, copies, receiver);
    }

    private final String tag;
    private final List<Path> photos;
    private final List<Path> copies;
    private final WebhookReceiver receiver;

    /** Request number {@code i} (deterministic); kept in {@link #requests} as it is made. */
    synchronized Request next() throws IOException {
        int i = requests.size();
        int n = photos.size();
        String folder = "f-" + tag + "-" + i;
        String analysis = "a-" + tag + "-" + i;
        int mediaCount = 2 + Math.floorMod(i * 7, 3);
        boolean samePerson = i % 2 == 0;
        int base = Math.floorMod(i * 5, n);
        ObjectNode r = FlinkRest.JSON.createObjectNode();
        r.put("folder_id", folder);
        ObjectNode a = r.putArray("analyses").addObject();
        a.put("type", "biometry");
        a.put("analyse_id", analysis);
        String endpoint = i % 4 == 0 ? receiver.endpoint(analysis) : null;
        if (endpoint != null) {
            r.put("resolution_endpoint", endpoint);
        }
        ArrayNode media = r.putArray("media");
        for (int j = 0; j < mediaCount; j++) {
            int photo = samePerson ? base : (base + j) % n;
            Path file = samePerson && j % 2 == 1
                    ? copies.get(photo)
                    : mediaRoot.resolve(photos.get(photo).getFileName());
            // 3 media in 5 re-use a media id (with its URI) that other analyses use too: embedding cache hits.
            boolean shared = Math.floorMod(i * 3 + j, 5) < 3;
            ObjectNode m = media.addObject();
            m.put("media_id", shared ? "shared-" + j + "-" + file.getFileName() : analysis + "-m" + j);
            m.put("media_type", "IMAGE_FOLDER");
            m.putArray("tags").add(j == 0 ? "photo_selfie" : "photo_id_front");
            m.put("uri", file.toUri().toString());
        }
        Request request = new Request(folder, analysis, FlinkRest.JSON.writeValueAsString(r), endpoint);
        requests.add(request);
        return request;
    }

    synchronized List<Request> made() {
        return List.copyOf(requests);
    }

    void writeJsonLines(Path file) throws IOException {
        Files.write(file, made().stream().map(Request::json).toList());
    }
}
