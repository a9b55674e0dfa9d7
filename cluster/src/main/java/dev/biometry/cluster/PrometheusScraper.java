package dev.biometry.cluster;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Scrapes the TaskManagers' Prometheus endpoints and keeps, per TaskManager, the largest value seen of each of the
 * job's metrics (counters restart from zero after a failover, so the maximum over the run is what was reached).
 */
final class PrometheusScraper {

    static final List<String> METRICS = List.of(
            "mediaEmbedded",
            "facesDetected",
            "embeddingLatencyMs",
            "embeddingCacheHits",
            "analysesSuccess",
            "analysesDeclined");

    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    /** TaskManager id -> metric -> largest value seen. */
    final Map<String, Map<String, Double>> maxima = new ConcurrentHashMap<>();

    final Map<String, Integer> scrapes = new ConcurrentHashMap<>();

    void scrape(String taskManager, int port) {
        String text;
        try {
            HttpResponse<String> r = http.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                            .timeout(Duration.ofSeconds(5))
                            .GET()
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                return;
            }
            text = r.body();
        } catch (Exception e) {
            return; // down (killed) or not up yet
        }
        scrapes.merge(taskManager, 1, Integer::sum);
        Map<String, Double> max = maxima.computeIfAbsent(taskManager, k -> new ConcurrentHashMap<>());
        for (String line : text.split("\n")) {
            if (line.startsWith("#") || line.isBlank()) {
                continue;
            }
            int brace = line.indexOf('{');
            int space = line.lastIndexOf(' ');
            String name = line.substring(0, brace >= 0 ? brace : line.indexOf(' '));
            for (String metric : METRICS) {
                // Counters end with _<name>; histograms are summaries: _<name>{quantile=...} and _<name>_count.
                if (name.endsWith("_" + metric) || name.endsWith("_" + metric + "_count")) {
                    try {
                        double v = Double.parseDouble(line.substring(space + 1).trim());
                        if (!Double.isNaN(v)) {
                            max.merge(metric, v, Math::max);
                        }
                    } catch (NumberFormatException e) {
                        // not a sample line
                    }
                }
            }
        }
    }

    /** The largest value of {@code metric} over all TaskManagers. */
    double max(String metric) {
        return maxima.values().stream()
                .mapToDouble(m -> m.getOrDefault(metric, 0.0))
                .max()
                .orElse(0);
    }

    Map<String, Double> perTaskManager(String metric) {
        Map<String, Double> r = new TreeMap<>();
        maxima.forEach((tm, m) -> r.put(tm, m.getOrDefault(metric, 0.0)));
        return r;
    }
}
