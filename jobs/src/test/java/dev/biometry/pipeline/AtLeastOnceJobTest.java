package dev.biometry.pipeline;

import static dev.biometry.testing.JobRun.media;
import static dev.biometry.testing.JobRun.newId;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.biometry.testing.JobMetrics;
import dev.biometry.testing.JobRun;
import dev.biometry.testing.TestData;
import dev.biometry.testing.TestImages;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Map;
import java.util.regex.Pattern;
import org.apache.flink.api.common.JobID;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.Metric;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The low-latency mode ({@code --delivery-guarantee at-least-once}): the sinks write without transactions, so a
 * {@code read_committed} client reads a result as soon as the job wrote it, before any checkpoint (this job's
 * interval is an hour). Also the stages' record-age histograms ({@code inputAgeMs}, {@code outputAgeMs}) that show
 * where an analysis' time goes: one analysis passes each stage, older at each.
 */
@Tag("integration")
class AtLeastOnceJobTest {

    private static final InMemoryReporter REPORTER = InMemoryReporter.createWithRetainedMetrics();

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER = JobRun.miniCluster(REPORTER);

    @TempDir
    static Path mediaRoot;

    private static JobRun run;

    @BeforeAll
    static void start() throws Exception {
        run = new JobRun(Map.of(
                "delivery-guarantee", "at-least-once",
                "checkpoint-interval", "1h",
                "media-roots", mediaRoot.toString()));
    }

    @AfterAll
    static void stop() throws Exception {
        run.close();
    }

    @Test
    void aResultIsReadCommittedBeforeAnyCheckpointAndEveryStageRecordsItsAge() throws Exception {
        run.startJob();
        JobID job = run.job().getJobID();
        byte[] photo = TestData.read(TestData.samplePhoto(3));
        String one = TestImages.write(mediaRoot, "one.jpg", photo).toUri().toString();
        String two = TestImages.write(mediaRoot, "two.jpg", photo).toUri().toString();
        String folder = newId();
        long sent = System.currentTimeMillis();
        String analysis = run.request(
                folder, null, media(folder, "a", one, "IMAGE_FOLDER"), media(folder, "b", two, "IMAGE_FOLDER"));

        JsonNode result = run.finalResult(analysis); // a read_committed reader
        long elapsed = System.currentTimeMillis() - sent;
        assertThat(result.get("state").asText()).isEqualTo("FINISHED");
        assertThat(result.get("resolution_status").asText()).isEqualTo("SUCCESS");
        assertThat(JobMetrics.completedCheckpoints(REPORTER, job))
                .as("no checkpoint committed it: at-least-once writes without transactions")
                .isZero();

        // This job has seen one request: its two media pass the stages in order, so each stage's ages are at
        // least the previous stage's, and none exceeds the time the test waited.
        long parsed = only(job, "parse-requests", RecordAge.INPUT);
        long joined = only(job, "folder-join", RecordAge.INPUT);
        long claimed = only(job, "claim-analysis", RecordAge.INPUT);
        Collection<Histogram> embedIn = histograms(job, "embed-faces", RecordAge.INPUT);
        Collection<Histogram> embedOut = histograms(job, "embed-faces", RecordAge.OUTPUT);
        Collection<Histogram> matched = histograms(job, "match", RecordAge.INPUT);
        long ordered = only(job, "order-results", RecordAge.INPUT);
        assertThat(count(embedIn)).isEqualTo(2);
        assertThat(count(embedOut)).isEqualTo(2);
        assertThat(count(matched)).isEqualTo(2);
        assertThat(parsed).isLessThanOrEqualTo(joined);
        assertThat(joined).isLessThanOrEqualTo(claimed);
        assertThat(claimed).isLessThanOrEqualTo(min(embedIn));
        assertThat(max(embedIn)).isLessThanOrEqualTo(max(embedOut));
        assertThat(max(embedOut)).isLessThanOrEqualTo(max(matched));
        assertThat(max(matched)).isLessThanOrEqualTo(ordered);
        assertThat(ordered).isLessThanOrEqualTo(elapsed);
    }

    private static Collection<Histogram> histograms(JobID job, String operator, String name) {
        Map<String, Metric> found =
                REPORTER.findMetrics(job, "\\." + Pattern.quote(operator) + "\\.\\d+\\." + Pattern.quote(name) + "$");
        assertThat(found).as(operator + " " + name).isNotEmpty();
        return found.values().stream().map(m -> (Histogram) m).toList();
    }

    /** The one value the operator's histograms (one per subtask) recorded. */
    private static long only(JobID job, String operator, String name) {
        Collection<Histogram> h = histograms(job, operator, name);
        assertThat(count(h)).as(operator + " " + name).isEqualTo(1);
        return max(h);
    }

    private static long count(Collection<Histogram> histograms) {
        return histograms.stream().mapToLong(Histogram::getCount).sum();
    }

    private static long max(Collection<Histogram> histograms) {
        return histograms.stream()
                .filter(h -> h.getCount() > 0)
                .mapToLong(h -> h.getStatistics().getMax())
                .max()
                .orElseThrow();
    }

    private static long min(Collection<Histogram> histograms) {
        return histograms.stream()
                .filter(h -> h.getCount() > 0)
                .mapToLong(h -> h.getStatistics().getMin())
                .min()
                .orElseThrow();
    }
}
