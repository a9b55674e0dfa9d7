package dev.biometry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.biometry.testing.TestData;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The monitoring stack of {@code docker/} against a real job: {@code local} (what {@code ./run.sh} runs) with its
 * Prometheus endpoint ({@code --metrics-port}, Flink's Prometheus reporter), a real {@code prometheus} server with
 * the project's scrape configuration ({@code docker/prometheus/prometheus.yml}, its targets pointed at that
 * endpoint) and alert rules, a few analyses and a dead letter; then every PromQL expression of the Grafana
 * dashboard ({@code docker/grafana/dashboards/biometry.json}) is run through Prometheus' HTTP API and must return
 * data, the alert rules pass {@code promtool check rules}, are loaded and evaluated by the server without error,
 * and every metric they name is scraped. Needs the Debian package {@code prometheus} ({@code .ci/run} installs it).
 */
@org.junit.jupiter.api.Tag("integration")
class MonitoringStackTest {

    private static final Path ROOT = TestData.repoRoot();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    /** Generous: the machines running the tests are shared and often heavily loaded. */
    private static final Duration PATIENCE = Duration.ofMinutes(6);

    @Test
    void everyDashboardQueryReturnsDataAndTheAlertRulesLoad(@TempDir Path dir) throws Exception {
        Path prometheusBin = TestData.toolOrSkip("prometheus", "prometheus");
        Path promtool = TestData.toolOrSkip("promtool", "prometheus");
        Path alerts = ROOT.resolve("docker/prometheus/alerts.yml");
        ProcessResult check = run(promtool.toString(), "check", "rules", alerts.toString());
        assertThat(check.code()).as("promtool check rules: %s", check.output()).isZero();
        int ruleCount = alertRuleCount(alerts);
        assertThat(check.output()).contains("SUCCESS: " + ruleCount + " rules found");

        int metricsPort = freePort();
        Path requests = requestsFile(dir);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Thread local = new Thread(
                () -> {
                    try {
                        LocalMain.run(
                                new String[] {
                                    "local",
                                    "--requests",
                                    requests.toString(),
                                    "--no-ui",
                                    "--metrics-port",
                                    String.valueOf(metricsPort),
                                    "--models",
                                    TestData.modelsDir().toString(),
                                    "--parallelism",
                                    "2",
                                    "--checkpoint-interval",
                                    "1s"
                                },
                                new PrintStream(out, true, StandardCharsets.UTF_8),
                                new PrintStream(err, true, StandardCharsets.UTF_8));
                    } catch (Exception e) {
                        // Interrupting the thread ends `local` (its Kafka consumer throws); anything else shows in err.
                        e.printStackTrace(new PrintStream(err, true, StandardCharsets.UTF_8));
                    }
                },
                "local-command");
        local.start();
        Process prometheus = null;
        try {
            awaitTrue(
                    "two final results of `local`",
                    () -> countFinished(out) >= 2,
                    () -> err.toString(StandardCharsets.UTF_8));
            String endpoint = "http://127.0.0.1:" + metricsPort + "/metrics";
            awaitTrue("the job's metrics at " + endpoint, () -> get(endpoint).contains("embeddingLatencyMs"), () -> "");

            int prometheusPort = freePort();
            Path config = prometheusConfig(dir, "127.0.0.1:" + metricsPort, alerts);
            prometheus = new ProcessBuilder(
                            prometheusBin.toString(),
                            "--config.file=" + config,
                            "--storage.tsdb.path=" + dir.resolve("tsdb"),
                            "--web.listen-address=127.0.0.1:" + prometheusPort)
                    .redirectErrorStream(true)
                    .redirectOutput(dir.resolve("prometheus.log").toFile())
                    .start();
            String api = "http://127.0.0.1:" + prometheusPort;
            awaitTrue("Prometheus ready", () -> get(api + "/-/ready").contains("Ready"), () -> log(dir));

            // Every target of every panel, retried until each has data (rates need two scrapes; checkpoint
            // sizes and consumer lag appear after the first checkpoint and fetch).
            Map<String, String> queries = dashboardQueries();
            assertThat(queries).hasSizeGreaterThanOrEqualTo(12);
            Map<String, String> empty = new LinkedHashMap<>(queries);
            long deadline = System.nanoTime() + PATIENCE.toNanos();
            while (!empty.isEmpty() && System.nanoTime() < deadline) {
                empty.entrySet().removeIf(q -> resultCount(api, q.getValue()) > 0);
                if (!empty.isEmpty()) {
                    Thread.sleep(1000);
                }
            }
            assertThat(empty)
                    .as("dashboard queries without data (Flink metric names: %s)", flinkMetricNames(api))
                    .isEmpty();

            // The alert rules: loaded, evaluated without error, and every metric they use exists.
            awaitTrue(
                    "alert rules evaluated",
                    () -> {
                        JsonNode rules =
                                JSON.readTree(get(api + "/api/v1/rules")).at("/data/groups/0/rules");
                        List<JsonNode> all = new ArrayList<>();
                        rules.forEach(all::add);
                        return all.size() == ruleCount
                                && all.stream()
                                        .allMatch(r -> r.at("/health").asText().equals("ok")
                                                && !r.at("/lastEvaluation")
                                                        .asText()
                                                        .startsWith("0001"));
                    },
                    () -> get(api + "/api/v1/rules"));
            for (String metric : metricNames(Files.readString(alerts))) {
                assertThat(resultCount(api, "count(" + metric + ")"))
                        .as("alert rules use %s", metric)
                        .isPositive();
            }
        } finally {
            if (prometheus != null) {
                prometheus.destroy();
                prometheus.waitFor(30, TimeUnit.SECONDS);
            }
            local.interrupt();
            local.join(TimeUnit.MINUTES.toMillis(2));
        }
    }

    /** Three analyses over the sample photos (same person, different people, one media) and a line that is not JSON. */
    private static Path requestsFile(Path dir) throws IOException {
        for (int n : new int[] {1, 2, 3}) {
            Files.copy(TestData.samplePhoto(n), dir.resolve("s" + n + ".jpg"));
        }
        String media =
                "{\"media_id\":\"%s\",\"media_type\":\"IMAGE_FOLDER\",\"tags\":[\"photo_selfie\"],\"uri\":\"%s\"}";
        Path file = dir.resolve("requests.jsonl");
        Files.writeString(
                file,
                String.join(
                        "\n",
                        "{\"folder_id\":\"m1\",\"analyses\":[{\"type\":\"biometry\",\"analyse_id\":\"a1\"}],\"media\":["
                                + media.formatted("a", "s1.jpg") + "," + media.formatted("b", "s3.jpg") + "]}",
                        "{\"folder_id\":\"m2\",\"analyses\":[{\"type\":\"biometry\",\"analyse_id\":\"a2\"}],\"media\":["
                                + media.formatted("c", "s2.jpg") + "," + media.formatted("d", "s1.jpg") + "]}",
                        "{\"folder_id\":\"m3\",\"analyses\":[{\"type\":\"biometry\",\"analyse_id\":\"a3\"}],\"media\":["
                                + media.formatted("e", "s2.jpg") + "]}",
                        "not JSON: a dead letter"));
        return file;
    }

    /** docker/prometheus/prometheus.yml with its targets replaced by {@code target}, 1 s intervals, absolute rules. */
    private static Path prometheusConfig(Path dir, String target, Path alerts) throws IOException {
        YAMLMapper yaml = new YAMLMapper();
        ObjectNode config = (ObjectNode)
                yaml.readTree(ROOT.resolve("docker/prometheus/prometheus.yml").toFile());
        ObjectNode global = (ObjectNode) config.get("global");
        global.put("scrape_interval", "1s").put("evaluation_interval", "1s");
        config.putArray("rule_files").add(alerts.toString());
        ArrayNode scrapes = (ArrayNode) config.get("scrape_configs");
        assertThat(scrapes).hasSize(1);
        ObjectNode flink = (ObjectNode) scrapes.get(0);
        assertThat(flink.get("job_name").asText()).isEqualTo("flink");
        flink.remove("dns_sd_configs");
        ObjectNode staticConfig = (ObjectNode) flink.get("static_configs").get(0);
        staticConfig.putArray("targets").add(target);
        Path file = dir.resolve("prometheus.yml");
        yaml.writeValue(file.toFile(), config);
        return file;
    }

    /** Every PromQL expression of the dashboard, keyed by panel title and target. */
    private static Map<String, String> dashboardQueries() throws IOException {
        JsonNode dashboard = JSON.readTree(
                ROOT.resolve("docker/grafana/dashboards/biometry.json").toFile());
        Map<String, String> queries = new LinkedHashMap<>();
        for (JsonNode panel : dashboard.get("panels")) {
            assertThat(panel.get("targets")).as(panel.get("title").asText()).isNotEmpty();
            for (JsonNode target : panel.get("targets")) {
                queries.put(
                        panel.get("title").asText() + " / "
                                + target.get("refId").asText(),
                        target.get("expr").asText());
            }
        }
        return queries;
    }

    private static int alertRuleCount(Path alerts) throws IOException {
        JsonNode rules = new YAMLMapper().readTree(alerts.toFile()).at("/groups/0/rules");
        return rules.size();
    }

    /** The Flink metric names (flink_...) an expression file uses. */
    private static Set<String> metricNames(String text) {
        Set<String> names = new LinkedHashSet<>();
        Matcher m = Pattern.compile("\\bflink_[A-Za-z0-9_]+").matcher(text);
        while (m.find()) {
            names.add(m.group());
        }
        return names;
    }

    private static int resultCount(String api, String query) {
        try {
            JsonNode answer =
                    JSON.readTree(get(api + "/api/v1/query?query=" + URLEncoder.encode(query, StandardCharsets.UTF_8)));
            assertThat(answer.get("status").asText())
                    .as("query %s: %s", query, answer)
                    .isEqualTo("success");
            return answer.at("/data/result").size();
        } catch (IOException e) {
            throw new AssertionError("query " + query, e);
        }
    }

    private static String flinkMetricNames(String api) {
        try {
            List<String> names = new ArrayList<>();
            JSON.readTree(get(api + "/api/v1/label/__name__/values"))
                    .get("data")
                    .forEach(n -> names.add(n.asText()));
            return String.join(", ", names);
        } catch (IOException e) {
            return e.toString();
        }
    }

    private static long countFinished(ByteArrayOutputStream out) {
        return out.toString(StandardCharsets.UTF_8)
                .lines()
                .filter(l -> l.contains("\"state\":\"FINISHED\"") || l.contains("\"state\":\"FAILED\""))
                .count();
    }

    private static String get(String url) throws IOException {
        try {
            HttpResponse<String> r = HTTP.send(
                    HttpRequest.newBuilder(URI.create(url))
                            .timeout(Duration.ofSeconds(30))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? r.body() : "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        } catch (IOException e) {
            return "";
        }
    }

    private static String log(Path dir) {
        try {
            return Files.readString(dir.resolve("prometheus.log"));
        } catch (IOException e) {
            return e.toString();
        }
    }

    interface Check {
        boolean ok() throws Exception;
    }

    interface Detail {
        String get() throws Exception;
    }

    private static void awaitTrue(String what, Check check, Detail detail) throws Exception {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (!check.ok()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what + ":\n" + detail.get());
            }
            Thread.sleep(500);
        }
    }

    record ProcessResult(int code, String output) {}

    private static ProcessResult run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return new ProcessResult(p.waitFor(), output);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
