package dev.biometry.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import dev.biometry.api.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@link BatchReport} on hand-made results (threshold 0.87, off the histogram's 0.05 grid): counts by resolution
 * and state, the errors-by-code table, the slowest media first, the throughput rows and the histogram's bars.
 */
class BatchReportTest {

    private static final Pattern BAR = Pattern.compile(
            "<rect x=\"[0-9.]+\" y=\"[0-9.]+\" width=\"[0-9.]+\" height=\"([0-9.]+)\" fill=\"(#[0-9a-f]{6})\">"
                    + "<title>([0-9.]+-[0-9.]+): (\\d+), (\\d+) at or above the threshold</title></rect>");
    private static final String RED = "#c62828";
    private static final String GREEN = "#2e7d32";

    private static final List<JsonNode> RESULTS = List.of(
            result("""
                    {"analyse_id":"a-success","state":"FINISHED","resolution_status":"SUCCESS",
                     "params":{"threshold":0.87},"results_data":{"min_confidence":0.97,"max_confidence":0.97},
                     "results_media":[{"source_media_id":"m-fast","results_data":{"processing_ms":80}},
                                      {"source_media_id":"m-middle","results_data":{"processing_ms":120}}]}"""),
            result("""
                    {"analyse_id":"a-declined","state":"FINISHED","resolution_status":"DECLINED",
                     "params":{"threshold":0.87},"results_data":{"min_confidence":0.10,"max_confidence":0.10},
                     "results_media":[{"source_media_id":"m-noface","results_data":{"processing_ms":300},
                                       "error":{"code":4,"message":"no face found"}},
                                      {"source_media_id":"m-other","results_data":{"processing_ms":90}}]}"""),
            result("""
                    {"analyse_id":"a-failed","state":"FAILED","resolution_status":"FAILED",
                     "params":{"threshold":0.87},"error_code":4,"error_message":"INVALID VALUE: not an image",
                     "results_media":[{"source_media_id":"m-broken","results_data":{"processing_ms":15},
                                       "error":{"code":4,"message":"not an image"}}]}"""),
            // Both in the 0.85-0.90 bin, one on each side of 0.87.
            result("""
                    {"analyse_id":"a-review","state":"FINISHED","resolution_status":"OPERATOR_REQUIRED",
                     "params":{"threshold":0.87,"threshold_min":0.6},
                     "results_data":{"min_confidence":0.86,"max_confidence":0.86},"results_media":[]}"""),
            result("""
                    {"analyse_id":"a-just-passes","state":"FINISHED","resolution_status":"SUCCESS",
                     "params":{"threshold":0.87},"results_data":{"min_confidence":0.88,"max_confidence":0.88},
                     "results_media":[]}"""));

    private final String html =
            BatchReport.html(RESULTS, new BatchReport.RunInfo("requests.jsonl", 6, 1, 2.0, "2 cores, test CPU", 0.85));

    @Test
    void countsByResolutionAndState() {
        assertThat(html)
                .contains("<b>2</b>success")
                .contains("<b>1</b>declined")
                .contains("<b>1</b>operator required")
                .contains("<b>1</b>failed")
                .contains("<b>5</b>analyses");
        assertThat(html).contains("States: FAILED 1, FINISHED 4. Dead letters (invalid request lines): 1.");
    }

    @Test
    void errorsAreCountedByCodeForAnalysesAndForMedia() {
        assertThat(html).doesNotContain("<h2>Errors by code</h2><p>None.</p>");
        // Code 4: one failed analysis, two media with an error (the one without a face and the broken one).
        assertThat(html)
                .contains("<tr><td class=\"n\">4</td><td>INVALID VALUE</td><td class=\"n\">1</td>"
                        + "<td class=\"n\">2</td></tr>");
    }

    @Test
    void theSlowestMediaComeFirst() {
        String slowest = html.substring(html.indexOf("<h2>Slowest media</h2>"));
        List<String> media = new ArrayList<>();
        Matcher m = Pattern.compile("<tr><td>([^<]+)</td><td><small>([^<]+)</small></td><td class=\"n\">(\\d+)</td>")
                .matcher(slowest);
        while (m.find()) {
            media.add(m.group(1) + "@" + m.group(3));
        }
        assertThat(media).containsExactly("m-noface@300", "m-middle@120", "m-other@90", "m-fast@80", "m-broken@15");
        assertThat(slowest).contains("<small>no face found</small>");
    }

    @Test
    void throughputIsPerWallSecond() {
        assertThat(html)
                .contains("<tr><td>request lines</td><td class=\"n\">6</td></tr>")
                .contains("<tr><td>analyses</td><td class=\"n\">5</td></tr>")
                .contains("<tr><td>media analysed</td><td class=\"n\">5</td></tr>")
                .contains("<tr><td>wall time</td><td class=\"n\">2.0 s</td></tr>")
                .contains("<tr><td>analyses per second</td><td class=\"n\">2.50</td></tr>")
                .contains("<tr><td>media per second</td><td class=\"n\">2.50</td></tr>");
    }

    /** A bin that straddles the threshold shows its analyses below it in red and those at or above it in green. */
    @Test
    void histogramBarsAreSplitAtTheThresholdAndTheThresholdIsMarked() {
        List<String> bars = new ArrayList<>();
        double unit = -1;
        Matcher m = BAR.matcher(html);
        while (m.find()) {
            bars.add(m.group(3) + " " + m.group(2) + " " + m.group(4) + "/" + m.group(5));
            if (unit < 0) {
                unit = Double.parseDouble(m.group(1));
            } else {
                // Every segment here holds one analysis, so all have the same height.
                assertThat(Double.parseDouble(m.group(1))).isCloseTo(unit, within(0.11));
            }
        }
        assertThat(bars)
                .containsExactly(
                        "0.10-0.15 " + RED + " 1/0",
                        "0.85-0.90 " + RED + " 2/1",
                        "0.85-0.90 " + GREEN + " 2/1",
                        "0.95-1.00 " + GREEN + " 1/1");
        assertThat(unit).isPositive();
        // Dashed threshold line at 0.87 of the 830-pixel plot that starts at x=50, and its label.
        assertThat(html)
                .contains("<line x1=\"772.1\" y1=\"15\" x2=\"772.1\" y2=\"260\" stroke=\"#111\" "
                        + "stroke-width=\"2\" stroke-dasharray=\"6 4\"/>")
                .contains("threshold 0.87</text>");
        assertThat(html).doesNotContain("<script").doesNotContain("src=").doesNotContain("href=");
    }

    private static JsonNode result(String json) {
        try {
            return Json.mapper().readTree(json);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    /** Analyses without params.threshold are judged, and the line drawn, at the job's --threshold. */
    @Test
    void withoutParamsTheJobsThresholdApplies() throws Exception {
        List<JsonNode> noParams = List.of(Json.mapper().readTree("""
                {"analyse_id":"p","state":"FINISHED","resolution_status":"SUCCESS",
                 "results_data":{"min_confidence":0.75,"max_confidence":0.75},"results_media":[]}"""));
        String report = BatchReport.html(noParams, new BatchReport.RunInfo("r.jsonl", 1, 0, 1.0, "cpu", 0.7));

        assertThat(report).contains("threshold 0.70</text>");
        assertThat(report).containsPattern("fill=\"#2e7d32\"><title>0\\.75-0\\.80: 1, 1 at or above the threshold");
    }
}
