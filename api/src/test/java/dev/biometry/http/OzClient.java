package dev.biometry.http;

import com.fasterxml.jackson.databind.JsonNode;
import dev.biometry.api.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** A real HTTP client for the tests: JSON and multipart calls against the API on loopback. */
final class OzClient {

    /** One answer: status and JSON body (null when the body is not JSON). */
    record Answer(int status, JsonNode json, String text) {
        JsonNode at(String pointer) {
            return json.at(pointer);
        }
    }

    /** A multipart body under construction. */
    static final class Multipart {
        private final String boundary = "----oz" + UUID.randomUUID().toString().replace("-", "");
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Multipart file(String name, String filename, String contentType, byte[] bytes) {
            write("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"; filename=\"" + filename
                    + "\"\r\nContent-Type: " + contentType + "\r\n\r\n");
            out.writeBytes(bytes);
            write("\r\n");
            return this;
        }

        Multipart field(String name, String value) {
            write("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value
                    + "\r\n");
            return this;
        }

        private void write(String s) {
            out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
        }

        byte[] body() {
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            all.writeBytes(out.toByteArray());
            all.writeBytes(("--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
            return all.toByteArray();
        }

        String contentType() {
            return "multipart/form-data; boundary=" + boundary;
        }
    }

    private final HttpClient http;
    private final String base;
    String token;

    OzClient(int port) {
        this.base = "http://127.0.0.1:" + port;
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10))
                .build();
    }

    OzClient withToken(String token) {
        OzClient c = new OzClient(Integer.parseInt(base.substring(base.lastIndexOf(':') + 1)));
        c.token = token;
        return c;
    }

    /** Logs in (JSON body) and keeps the token; returns the answer. */
    Answer login(String email, String password) throws Exception {
        Answer a = postJson(
                "/api/authorize/auth/",
                "{\"credentials\": {\"email\": \"" + email + "\", \"password\": \"" + password + "\"}}",
                "application/json");
        if (a.status() == 200) {
            token = a.json().get("access_token").asText();
        }
        return a;
    }

    Answer get(String path) throws Exception {
        return send(request(path).GET());
    }

    Answer postJson(String path, String body, String contentType) throws Exception {
        return send(request(path).header("Content-Type", contentType).POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    Answer postJson(String path, String body) throws Exception {
        return postJson(path, body, "application/json");
    }

    Answer postMultipart(String path, Multipart multipart) throws Exception {
        return send(request(path)
                .header("Content-Type", multipart.contentType())
                .POST(HttpRequest.BodyPublishers.ofByteArray(multipart.body())));
    }

    /** GET until {@code field} of the answer is neither PROCESSING nor INITIAL (1 s apart, as the iOS SDK). */
    Answer pollUntilDone(String path, String pointer, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<String> seen = new ArrayList<>();
        while (true) {
            Answer a = get(path);
            if (a.status() != 200) {
                throw new AssertionError("GET " + path + " answered " + a.status() + ": " + a.text());
            }
            String value = a.at(pointer).asText();
            seen.add(value);
            if (!value.equals("PROCESSING") && !value.equals("INITIAL")) {
                return a;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("still " + value + " after " + timeout + " (" + path + "); seen " + seen);
            }
            Thread.sleep(500);
        }
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(180));
        if (token != null) {
            b.header("X-Forensic-Access-Token", token);
        }
        return b;
    }

    Answer send(HttpRequest.Builder b) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        JsonNode json = null;
        try {
            json = r.body().isEmpty() ? null : Json.mapper().readTree(r.body());
        } catch (IOException e) {
            // not JSON
        }
        return new Answer(r.statusCode(), json, r.body());
    }

    HttpClient http() {
        return http;
    }

    String base() {
        return base;
    }
}
