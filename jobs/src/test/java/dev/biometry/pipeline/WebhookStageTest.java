package dev.biometry.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.biometry.config.JobConfig;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.api.dag.Transformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;

/** Where {@link WebhookStage} puts the webhook operator: streaming jobs get it, batch runs do not. */
class WebhookStageTest {

    @Test
    void streamingJobsDeliverWebhooks() {
        assertThat(operatorNames(RuntimeExecutionMode.STREAMING))
                .contains("webhook-results", "webhooks")
                .doesNotContain("no-webhooks-in-batch");
    }

    @Test
    void batchRunsSendNoWebhooks() {
        assertThat(operatorNames(RuntimeExecutionMode.BATCH))
                .contains("no-webhooks-in-batch")
                .doesNotContain("webhooks");
    }

    private static Set<String> operatorNames(RuntimeExecutionMode mode) {
        Configuration conf = new Configuration();
        conf.set(ExecutionOptions.RUNTIME_MODE, mode);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        DataStream<ResultRecord> results = env.fromData(
                new ResultRecord("a-1", "f-1", "FINISHED", "SUCCESS", "https://hooks.example.com/x", "{}"));
        WebhookStage.attach(results, JobConfig.fromOptions(Map.of("webhook-allow-hosts", "hooks.example.com")))
                .print();
        Set<String> names = new HashSet<>();
        for (Transformation<?> sink : env.getTransformations()) {
            for (Transformation<?> t : sink.getTransitivePredecessors()) {
                names.add(t.getName());
            }
        }
        return names;
    }
}
