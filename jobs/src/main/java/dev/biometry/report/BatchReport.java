package dev.biometry.report;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The self-contained HTML report of a batch run: counts by resolution and state, error counts by code, a histogram
 * of {@code min_confidence} with the decision threshold marked (inline SVG), the slowest media and the run's
 * throughput. Built from the final analysis objects the run wrote; no scripts, no external resources.
 */
public final class BatchReport {

    /** The run as a whole: how many requests were read, wall time, dead letters. */
    /**
     * The run around the results.
     *
     * @param defaultThreshold the job's {@code --threshold}, for analyses without {@code params.threshold}
     */
    public record RunInfo(
            String input,
            long requestLines,
            long deadLetters,
            double seconds,
            String machine,
            double defaultThreshold) {}

    private static final int BINS = 20;

    private BatchReport() {}

    public static String html(List<JsonNode> results, RunInfo run) {
        Map<String, Integer> byResolution = new TreeMap<>();
        Map<String, Integer> byState = new TreeMap<>();
        Map<Integer, Integer> analysisErrors = new TreeMap<>();
        Map<Integer, Integer> mediaErrors = new TreeMap<>();
        int[] histogram = new int[BINS];
        int[] passing = new int[BINS];
        Map<Double, Integer> thresholds = new TreeMap<>();
        List<String[]> media = new ArrayList<>();
        long mediaCount = 0;
        for (JsonNode r : results) {
            byResolution.merge(r.path("resolution_status").asText("?"), 1, Integer::sum);
            byState.merge(r.path("state").asText("?"), 1, Integer::sum);
            if (r.has("error_code")) {
                analysisErrors.merge(r.get("error_code").asInt(), 1, Integer::sum);
            }
            JsonNode min = r.at("/results_data/min_confidence");
            double ownThreshold = r.at("/params/threshold").asDouble(run.defaultThreshold());
            if (min.isNumber()) {
                int bin = Math.max(0, Math.min(BINS - 1, (int) (min.asDouble() * BINS)));
                histogram[bin]++;
                if (min.asDouble() >= ownThreshold) {
                    passing[bin]++;
                }
            }
            thresholds.merge(ownThreshold, 1, Integer::sum);
            for (JsonNode m : r.path("results_media")) {
                mediaCount++;
                if (m.has("error")) {
                    mediaErrors.merge(m.at("/error/code").asInt(), 1, Integer::sum);
                }
                JsonNode ms = m.at("/results_data/processing_ms");
                if (ms.isNumber()) {
                    media.add(new String[] {
                        m.path("source_media_id").asText(),
                        r.path("analyse_id").asText(),
                        String.valueOf(ms.asLong()),
                        m.path("error").path("message").asText("")
                    });
                }
            }
        }
        double threshold = thresholds.entrySet().stream()
                .max(Map.Entry.comparingByValue())
                .map(Map.Entry::getKey)
                .orElse(run.defaultThreshold());
        media.sort(
                Comparator.comparingLong((String[] m) -> Long.parseLong(m[2])).reversed());

        StringBuilder h = new StringBuilder(16_384);
        h.append(
                        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Biometry batch report</title>\n")
                .append("<style>body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:980px;color:#222}")
                .append(
                        "h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.15em;margin-top:1.8em;border-bottom:1px solid #ddd}")
                .append(
                        ".cards{display:flex;gap:12px;flex-wrap:wrap}.card{border-radius:8px;padding:10px 16px;min-width:120px;color:#fff}")
                .append(
                        ".card b{display:block;font-size:1.8em}.SUCCESS{background:#2e7d32}.DECLINED{background:#c62828}")
                .append(".OPERATOR_REQUIRED{background:#ef6c00}.FAILED{background:#555}.other{background:#1565c0}")
                .append(
                        "table{border-collapse:collapse}td,th{padding:3px 10px;border-bottom:1px solid #eee;text-align:left}")
                .append(
                        "td.n{text-align:right;font-variant-numeric:tabular-nums}small{color:#666}</style></head><body>\n");
        h.append("<h1>Biometry batch report</h1><small>")
                .append(esc(run.input()))
                .append(" &middot; ")
                .append(esc(run.machine()))
                .append("</small>\n");

        h.append("<h2>Resolutions</h2><div class=\"cards\">");
        for (String key : List.of("SUCCESS", "DECLINED", "OPERATOR_REQUIRED", "FAILED")) {
            h.append("<div class=\"card ")
                    .append(key)
                    .append("\"><b>")
                    .append(byResolution.getOrDefault(key, 0))
                    .append("</b>")
                    .append(key.replace('_', ' ').toLowerCase(Locale.ROOT))
                    .append("</div>");
        }
        h.append("<div class=\"card other\"><b>").append(results.size()).append("</b>analyses</div></div>\n");
        h.append("<p>States: ")
                .append(join(byState))
                .append(". Dead letters (invalid request lines): ")
                .append(run.deadLetters())
                .append(".</p>\n");

        h.append("<h2>Errors by code</h2>");
        if (analysisErrors.isEmpty() && mediaErrors.isEmpty()) {
            h.append("<p>None.</p>");
        } else {
            h.append(
                    "<table><tr><th>code</th><th>meaning</th><th>failed analyses</th><th>media with an error</th></tr>");
            TreeMap<Integer, Integer> codes = new TreeMap<>(analysisErrors);
            mediaErrors.keySet().forEach(c -> codes.putIfAbsent(c, 0));
            for (Integer code : codes.keySet()) {
                h.append("<tr><td class=\"n\">")
                        .append(code)
                        .append("</td><td>")
                        .append(codeName(code))
                        .append("</td><td class=\"n\">")
                        .append(analysisErrors.getOrDefault(code, 0))
                        .append("</td><td class=\"n\">")
                        .append(mediaErrors.getOrDefault(code, 0))
                        .append("</td></tr>");
            }
            h.append("</table>");
        }

        h.append("<h2>min_confidence of finished analyses</h2>").append(histogramSvg(histogram, passing, threshold));

        h.append("<h2>Throughput</h2><table>")
                .append(row("request lines", String.valueOf(run.requestLines())))
                .append(row("analyses", String.valueOf(results.size())))
                .append(row("media analysed", String.valueOf(mediaCount)))
                .append(row("wall time", String.format(Locale.ROOT, "%.1f s", run.seconds())))
                .append(row(
                        "analyses per second",
                        String.format(Locale.ROOT, "%.2f", results.size() / Math.max(run.seconds(), 1e-9))))
                .append(row(
                        "media per second",
                        String.format(Locale.ROOT, "%.2f", mediaCount / Math.max(run.seconds(), 1e-9))))
                .append("</table>\n");

        h.append("<h2>Slowest media</h2><table><tr><th>media</th><th>analysis</th><th>ms</th><th>error</th></tr>");
        for (String[] m : media.subList(0, Math.min(10, media.size()))) {
            h.append("<tr><td>")
                    .append(esc(m[0]))
                    .append("</td><td><small>")
                    .append(esc(m[1]))
                    .append("</small></td><td class=\"n\">")
                    .append(m[2])
                    .append("</td><td><small>")
                    .append(esc(m[3]))
                    .append("</small></td></tr>");
        }
        h.append("</table>\n</body></html>\n");
        return h.toString();
    }

    /**
     * Bars of analyses per confidence bin, threshold as a dashed line. Each bar is stacked: red for the analyses below
     * their threshold, green above it for those at or above, so a bin that straddles the threshold shows both.
     *
     * @param passing per bin, the analyses whose {@code min_confidence} reaches their threshold
     */
    static String histogramSvg(int[] bins, int[] passing, double threshold) {
        int width = 900;
        int height = 300;
        int left = 50;
        int bottom = 40;
        int top = 20;
        int max = 1;
        for (int b : bins) {
            max = Math.max(max, b);
        }
        double plotW = width - left - 20;
        double plotH = height - top - bottom;
        double barW = plotW / bins.length;
        StringBuilder s = new StringBuilder();
        s.append(String.format(
                Locale.ROOT,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                        + "role=\"img\" aria-label=\"histogram of min_confidence\" font-size=\"12\">",
                width,
                height));
        s.append(String.format(
                Locale.ROOT,
                "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#999\"/>",
                left,
                height - bottom,
                width - 20,
                height - bottom));
        for (int i = 0; i <= 4; i++) {
            int value = (int) Math.round(max * i / 4.0);
            double y = height - bottom - plotH * i / 4.0;
            s.append(String.format(
                    Locale.ROOT,
                    "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" fill=\"#555\">%d</text>"
                            + "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#eee\"/>",
                    left - 6,
                    y + 4,
                    value,
                    left,
                    y,
                    width - 20,
                    y));
        }
        for (int i = 0; i < bins.length; i++) {
            double x = left + i * barW;
            double h = plotH * bins[i] / max;
            double failH = plotH * (bins[i] - passing[i]) / max;
            String title = String.format(
                    Locale.ROOT,
                    "<title>%.2f-%.2f: %d, %d at or above the threshold</title>",
                    i / (double) bins.length,
                    (i + 1.0) / bins.length,
                    bins[i],
                    passing[i]);
            if (bins[i] > passing[i]) {
                s.append(String.format(
                        Locale.ROOT,
                        "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" " + "fill=\"#c62828\">%s</rect>",
                        x + 1,
                        height - bottom - failH,
                        barW - 2,
                        failH,
                        title));
            }
            if (passing[i] > 0) {
                s.append(String.format(
                        Locale.ROOT,
                        "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" " + "fill=\"#2e7d32\">%s</rect>",
                        x + 1,
                        height - bottom - h,
                        barW - 2,
                        h - failH,
                        title));
            }
            if (bins[i] > 0) {
                s.append(String.format(
                        Locale.ROOT,
                        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#333\">%d</text>",
                        x + barW / 2,
                        height - bottom - h - 4,
                        bins[i]));
            }
        }
        for (int i = 0; i <= 10; i++) {
            double x = left + plotW * i / 10.0;
            s.append(String.format(
                    Locale.ROOT,
                    "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#555\">%.1f</text>",
                    x,
                    height - bottom + 16,
                    i / 10.0));
        }
        double tx = left + plotW * threshold;
        s.append(String.format(
                Locale.ROOT,
                "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#111\" "
                        + "stroke-width=\"2\" stroke-dasharray=\"6 4\"/><text x=\"%.1f\" y=\"%d\" text-anchor=\"end\" "
                        + "fill=\"#111\">threshold %.2f</text>",
                tx,
                top - 5,
                tx,
                height - bottom,
                tx - 4,
                top + 8,
                threshold));
        s.append(String.format(
                Locale.ROOT,
                "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#333\">"
                        + "min_confidence (least similar pair of each analysis)</text>",
                left + plotW / 2,
                height - 4));
        s.append("</svg>");
        return s.toString();
    }

    private static String row(String k, String v) {
        return "<tr><td>" + esc(k) + "</td><td class=\"n\">" + esc(v) + "</td></tr>";
    }

    private static String join(Map<String, Integer> counts) {
        StringBuilder sb = new StringBuilder();
        counts.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : ", ")
                .append(esc(k))
                .append(" ")
                .append(v));
        return sb.length() == 0 ? "none" : sb.toString();
    }

    private static String codeName(int code) {
        return switch (code) {
            case 0 -> "UNKNOWN (system)";
            case 3 -> "INVALID STRUCTURE";
            case 4 -> "INVALID VALUE";
            case 5 -> "INVALID TYPE";
            case 10 -> "NOT EXIST";
            case 11 -> "EXTERNAL SERVICE";
            default -> "code " + code;
        };
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
