package dev.biometry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.biometry.api.Json;
import dev.biometry.testing.TestData;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * A short smoke run of {@code bench --json}: every phase runs (raw chain, the job at maximum rate, the job paced)
 * and the JSON carries positive figures. Speed targets are reported by the command, never asserted here.
 */
@org.junit.jupiter.api.Tag("integration")
class BenchCommandTest {

    @Test
    void shortRunPrintsOneJsonObjectWithEveryFigure() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();

        int code = LocalMain.run(
                new String[] {
                    "bench",
                    "--seconds",
                    "3",
                    "--warmup",
                    "1",
                    "--max-warmup",
                    "3",
                    "--parallelism",
                    "2",
                    "--checkpoint-interval",
                    "300ms",
                    "--json",
                    "--models",
                    TestData.modelsDir().toString()
                },
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));

        String errText = err.toString(StandardCharsets.UTF_8);
        assertThat(code).as(errText).isZero();
        JsonNode json = Json.mapper().readTree(out.toString(StandardCharsets.UTF_8));
        assertThat(json.path("machine").path("cores").asInt()).isPositive();
        assertThat(json.path("machine").path("cpu_model").asText()).isNotBlank();
        assertThat(json.path("settings").path("image_size").asText()).isEqualTo("1920x1080");
        assertThat(json.path("raw").path("faces_per_s").asDouble()).isPositive();
        assertThat(json.path("raw").path("ms_per_face").path("embed").asDouble())
                .isPositive();
        // The embed operator's per-media work and the bare chain, image by image on the same threads.
        assertThat(json.path("raw").path("interleaved_chain_cpu_ms_per_face").asDouble())
                .isPositive();
        assertThat(json.path("raw")
                        .path("interleaved_embed_operator_work_cpu_ms_per_face")
                        .asDouble())
                .isPositive();
        assertThat(json.path("raw_after_throughput").path("faces_per_s").asDouble())
                .isPositive();
        JsonNode throughput = json.path("throughput");
        assertThat(throughput.path("analyses_per_s").asDouble()).as(errText).isPositive();
        assertThat(throughput.path("faces_per_s").asDouble()).isPositive();
        assertThat(throughput.path("failed_analyses").asInt()).isZero();
        // The in-process broker's own request meters over the window: the job's sources and the bench's consumers
        // fetch, the bench's producer and the job's sinks produce.
        assertThat(throughput.path("broker_requests_per_s").path("Fetch").asDouble())
                .as(errText)
                .isPositive();
        assertThat(throughput.path("broker_requests_per_s").path("Produce").asDouble())
                .isPositive();
        assertThat(throughput.path("broker_requests_per_s").has("FetchConsumer"))
                .as("Kafka's meter of the consumers' share of Fetch: not counted twice")
                .isFalse();
        // The compilers are sampled over 5 s slices, so the warm-up ends with the first slice that ends after
        // --max-warmup (3 s): about 6 s, never the JIT's own settling time (a minute or more on 2 cores).
        assertThat(throughput.path("warmup_s").asDouble())
                .as("warm-up bounded by --max-warmup")
                .isBetween(1.0, 3.0 + 5.0 + 2.0);
        JsonNode latency = json.path("latency");
        assertThat(latency.path("missing_results").asInt()).isZero();
        for (String isolation : new String[] {"read_committed_ms", "read_uncommitted_ms"}) {
            for (String p : new String[] {"p50", "p95", "p99"}) {
                assertThat(latency.path(isolation).path(p).asDouble())
                        .as(isolation + " " + p)
                        .isPositive();
            }
        }
        // Where the time goes: every stage of the job, in the order an analysis passes them, from the job's own
        // record-age metrics (REST API); the checkpoints that committed. (AtLeastOnceJobTest checks the ages'
        // order on one analysis; here the window also holds the job's first, start-up-delayed analyses.)
        JsonNode stages = latency.path("stages_ms_since_request");
        assertThat(stages)
                .extracting(s -> s.path("stage").asText())
                .containsExactly("parsed", "joined", "claimed", "embed start", "embedded", "matched", "ordered");
        for (JsonNode stage : stages) {
            assertThat(stage.path("median").asDouble())
                    .as(stage.path("stage").asText())
                    .isGreaterThanOrEqualTo(0.0);
        }
        assertThat(latency.path("checkpoints").path("completed").asLong()).isPositive();
        assertThat(latency.path("checkpoints")
                        .path("latest_state_bytes_by_task")
                        .size())
                .isPositive();
        assertThat(json.path("ratio_pipeline_to_raw_faces").asDouble()).isPositive();
        // The raw chain again right after the throughput run, and the ratio against the raw runs on both sides.
        assertThat(throughput.path("raw_before_faces_per_s").asDouble())
                .isEqualTo(json.path("raw").path("faces_per_s").asDouble());
        assertThat(throughput.path("raw_after").path("faces_per_s").asDouble()).isPositive();
        assertThat(json.path("ratio_pipeline_to_raw_before_and_after").asDouble())
                .isCloseTo(
                        throughput.path("faces_per_s").asDouble()
                                / ((throughput.path("raw_before_faces_per_s").asDouble()
                                                + throughput
                                                        .path("raw_after")
                                                        .path("faces_per_s")
                                                        .asDouble())
                                        / 2),
                        org.assertj.core.api.Assertions.within(0.002));
        assertThat(json.path("targets")
                        .path("pipeline_faces_over_raw")
                        .path("value")
                        .asDouble())
                .as("judged against the raw runs before and after")
                .isEqualTo(json.path("ratio_pipeline_to_raw_before_and_after").asDouble());
        assertThat(json.path("embed_task_efficiency").asDouble()).isPositive();
        // The embed-faces tasks' own count of their face-engine CPU (faceWorkCpuMicros over mediaEmbedded, read
        // through the REST API at both ends of the window).
        assertThat(json.path("embed_cpu_ms_per_face")
                        .path("embed_task_face_engine")
                        .asDouble())
                .as(errText)
                .isPositive();
        assertThat(json.path("peak_rss_mb").asDouble()).isPositive();
        assertThat(json.path("targets").has("p99_latency_ms_at_half_load")).isTrue();
    }
}
