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
 * A short run of {@code bench-engine --json}: the fp32 and int8 embedding models both run, side by side, and the
 * JSON carries their figures, the ratios and the machine. Speeds are reported by the command, never asserted here.
 */
@org.junit.jupiter.api.Tag("integration")
class BenchEngineCommandTest {

    @Test
    void shortRunMeasuresFp32AndInt8SideBySide() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();

        int code = LocalMain.run(
                new String[] {
                    "bench-engine",
                    "--seconds",
                    "4",
                    "--json",
                    "--models",
                    TestData.modelsDir().toString()
                },
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));

        String errText = err.toString(StandardCharsets.UTF_8);
        assertThat(code).as(errText).isZero();
        assertThat(errText).contains("int8/fp32");
        JsonNode json = Json.mapper().readTree(out.toString(StandardCharsets.UTF_8));
        assertThat(json.path("machine").path("cpu_model").asText()).isNotBlank();
        assertThat(json.path("machine").path("cpu_flags").asText()).isNotBlank();
        for (String model : new String[] {"fp32", "int8"}) {
            JsonNode m = json.path("embedding_models").path(model);
            assertThat(m.path("faces").asLong()).as(model).isPositive();
            assertThat(m.path("embed_ms").asDouble()).as(model).isPositive();
            assertThat(m.path("embedding_alone_cpu_ms").asDouble()).as(model).isPositive();
            assertThat(m.path("chain_cpu_ms").asDouble()).as(model).isPositive();
        }
        assertThat(json.path("embedding_models").path("int8").path("model_file").asText())
                .isEqualTo("fr_feature.int8.onnx");
        assertThat(json.path("int8_over_fp32_embedding").asDouble()).isPositive();
        assertThat(json.path("int8_over_fp32_chain").asDouble()).isPositive();
    }
}
