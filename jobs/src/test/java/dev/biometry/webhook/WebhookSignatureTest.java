package dev.biometry.webhook;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.biometry.net.HttpPoster;
import dev.biometry.testing.WebhookReceiver;
import dev.biometry.testing.WebhookReceiver.Request;
import java.io.File;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The signature against a vector computed with openssl, and the receiver-side verification snippets of docs/webhooks.md
 * (the Java one compiled from the page, the shell one run with bash and openssl) on a real delivery.
 */
class WebhookSignatureTest {

    private static final String SECRET = "webhook-test-secret";
    private static final byte[] BODY =
            "{\"analyse_id\":\"a-1\",\"state\":\"FINISHED\",\"note\":\"Zoë\"}".getBytes(UTF_8);

    private static String readmeWebhooks;

    @BeforeAll
    static void readReadme() throws Exception {
        Path readme = Path.of(System.getProperty("user.dir"))
                .resolve("../docs/webhooks.md")
                .normalize();
        String text = Files.readString(readme);
        int start = text.indexOf("\n## Verifying a delivery\n");
        assertThat(start).as("section 'Verifying a delivery' in %s", readme).isNotNegative();
        int end = text.indexOf("\n## ", start + 1);
        readmeWebhooks = text.substring(start, end < 0 ? text.length() : end);
    }

    @Test
    void matchesAVectorComputedWithOpenssl() {
        // printf '1700000000.{"analyse_id":"a-1","state":"FINISHED"}' | openssl dgst -sha256 -hmac webhook-test-secret
        byte[] body = "{\"analyse_id\":\"a-1\",\"state\":\"FINISHED\"}".getBytes(UTF_8);
        assertThat(WebhookSignature.sign(SECRET.getBytes(UTF_8), 1_700_000_000L, body))
                .isEqualTo("sha256=15b05351907a647f1105eb0925807ce7e08d2df5dbd9806e8592e2a59ba1d10e");
    }

    @Test
    void theReadmeJavaSnippetVerifiesARealDelivery(@TempDir Path dir) throws Exception {
        Request delivery = deliver();
        String timestamp = delivery.header("X-Biometry-Timestamp");
        String signature = delivery.header("X-Biometry-Signature");

        JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
        assertThat(compiler).as("a JDK compiler").isNotNull();
        String snippet = codeBlock("java");
        StringBuilder source = new StringBuilder();
        List<String> body = new ArrayList<>();
        for (String line : snippet.split("\n")) {
            if (line.startsWith("import ")) {
                source.append(line).append('\n');
            } else {
                body.add(line);
            }
        }
        source.append("public class ReadmeVerifier {\n")
                .append(String.join("\n", body))
                .append("\n}\n");
        Path file = dir.resolve("ReadmeVerifier.java");
        Files.writeString(file, source);
        assertThat(compiler.run(null, null, null, "-d", dir.toString(), file.toString()))
                .as(source.toString())
                .isZero();

        try (URLClassLoader loader = new URLClassLoader(new URL[] {dir.toUri().toURL()}, null)) {
            Method verify = loader.loadClass("ReadmeVerifier")
                    .getDeclaredMethod("verify", byte[].class, String.class, String.class, byte[].class);
            verify.setAccessible(true);
            byte[] key = SECRET.getBytes(UTF_8);

            assertThat(verify.invoke(null, key, timestamp, signature, delivery.body()))
                    .isEqualTo(true);

            byte[] tampered = delivery.body().clone();
            tampered[tampered.length - 2] ^= 1;
            assertThat(verify.invoke(null, key, timestamp, signature, tampered)).isEqualTo(false);
            assertThat(verify.invoke(null, "other".getBytes(UTF_8), timestamp, signature, delivery.body()))
                    .isEqualTo(false);
            assertThat(verify.invoke(
                            null, key, String.valueOf(Long.parseLong(timestamp) + 1), signature, delivery.body()))
                    .isEqualTo(false);
            long old = Instant.now().getEpochSecond() - 600;
            assertThat(verify.invoke(
                            null,
                            key,
                            String.valueOf(old),
                            WebhookSignature.sign(key, old, delivery.body()),
                            delivery.body()))
                    .as("a replay 10 minutes later")
                    .isEqualTo(false);
            assertThat(verify.invoke(null, key, null, null, delivery.body())).isEqualTo(false);
        }
    }

    @Test
    void theReadmeShellSnippetVerifiesARealDelivery(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(onPath("bash") && onPath("openssl"), "bash and openssl needed");
        Request delivery = deliver();
        Path script = dir.resolve("verify.sh");
        Files.writeString(script, codeBlock("sh"));
        Path bodyFile = dir.resolve("body.json");
        Files.write(bodyFile, delivery.body());
        Path tamperedFile = dir.resolve("tampered.json");
        Files.write(
                tamperedFile,
                new String(delivery.body(), UTF_8).replace("Zoë", "Zoe").getBytes(UTF_8));
        String timestamp = delivery.header("X-Biometry-Timestamp");
        String signature = delivery.header("X-Biometry-Signature");

        assertThat(runShell(script, bodyFile, timestamp, signature)).isEqualTo("valid");
        assertThat(runShell(script, tamperedFile, timestamp, signature)).isEqualTo("exit 1");
        long old = Instant.now().getEpochSecond() - 600;
        assertThat(runShell(
                        script,
                        bodyFile,
                        String.valueOf(old),
                        WebhookSignature.sign(SECRET.getBytes(UTF_8), old, delivery.body())))
                .isEqualTo("exit 1");
    }

    // --- helpers ---

    /** One real delivery of {@link #BODY} to a receiver on 127.0.0.1, as the receiver got it. */
    private static Request deliver() throws Exception {
        try (WebhookReceiver receiver = WebhookReceiver.answering(204);
                WebhookSender sender = new WebhookSender(
                        HttpPoster.builder()
                                .allowHosts(List.of("127.0.0.1"))
                                .allowPlainHttp(true)
                                .allowPrivateAddresses(true)
                                .build(),
                        SECRET)) {
            WebhookSender.Result result = sender.send(
                    receiver.url("127.0.0.1", "/hook"),
                    "a-1",
                    "FINISHED",
                    BODY,
                    Instant.now().getEpochSecond());
            assertThat(result.outcome()).isEqualTo(WebhookSender.Outcome.DELIVERED);
            Request request = receiver.requests().get(0);
            assertThat(request.body()).isEqualTo(BODY);
            return request;
        }
    }

    /** The first fenced block of {@code language} in the section "Verifying a delivery" of docs/webhooks.md. */
    private static String codeBlock(String language) {
        String fence = "```" + language + "\n";
        int start = readmeWebhooks.indexOf(fence);
        assertThat(start)
                .as("a %s block in docs/webhooks.md, Verifying a delivery", language)
                .isNotNegative();
        int end = readmeWebhooks.indexOf("```", start + fence.length());
        return readmeWebhooks.substring(start + fence.length(), end);
    }

    private static String runShell(Path script, Path body, String timestamp, String signature) throws Exception {
        ProcessBuilder builder = new ProcessBuilder("bash", script.toString(), body.toString(), timestamp, signature)
                .redirectErrorStream(true);
        builder.environment().put("WEBHOOK_SECRET", SECRET);
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), UTF_8).trim();
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return process.exitValue() == 0 ? output : "exit " + process.exitValue();
    }

    private static boolean onPath(String command) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, command))) {
                return true;
            }
        }
        return false;
    }
}
