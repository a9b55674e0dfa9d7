package dev.biometry.pipeline;

import dev.biometry.api.DeadLetter;
import dev.biometry.config.JobConfig;
import dev.biometry.net.HttpPoster;
import dev.biometry.webhook.RetryPolicy;
import dev.biometry.webhook.WebhookSender;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.util.Collector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The webhook branch of the topology: final results ({@code FINISHED} / {@code FAILED}) that carry a
 * {@code resolution_endpoint}, keyed by analyse id, delivered by {@link WebhookFunction}; deliveries that end
 * without success come back as dead letters for the dead-letter sink. Batch runs (runtime mode {@code BATCH}:
 * re-verification of past requests) send no webhooks.
 */
public final class WebhookStage {

    private static final Logger LOG = LoggerFactory.getLogger(WebhookStage.class);

    private WebhookStage() {}

    /** Adds webhook delivery of {@code results}; returns its dead letters. */
    public static DataStream<DeadLetter> attach(DataStream<ResultRecord> results, JobConfig config) {
        if (results.getExecutionEnvironment().getConfiguration().get(ExecutionOptions.RUNTIME_MODE)
                == RuntimeExecutionMode.BATCH) {
            return results.flatMap((ResultRecord r, Collector<DeadLetter> out) -> {})
                    .returns(DeadLetter.class)
                    .name("no-webhooks-in-batch")
                    .uid("no-webhooks-in-batch");
        }
        if (config.webhookSecret().isEmpty()) {
            LOG.warn(
                    "no webhook secret (--webhook-secret-file, ${} or --webhook-secret): webhooks are sent without "
                            + "X-Biometry-Signature, so receivers cannot tell them from forgeries",
                    JobConfig.WEBHOOK_SECRET_ENV);
        }
        HttpPoster poster = HttpPoster.builder()
                .allowHosts(config.webhookAllowHosts())
                .allowPlainHttp(config.webhookAllowHttp())
                .allowPrivateAddresses(config.webhookAllowPrivate())
                .connectTimeout(config.webhookConnectTimeout())
                .timeout(config.webhookTimeout())
                .build();
        RetryPolicy retryPolicy =
                new RetryPolicy(config.webhookInitialBackoff(), config.webhookMaxBackoff(), config.webhookDeadline());
        boolean checkpointing =
                results.getExecutionEnvironment().getCheckpointConfig().isCheckpointingEnabled();
        return results.filter(r -> r.isFinal() && r.resolutionEndpoint() != null)
                .name("webhook-results")
                .uid("webhook-results")
                .keyBy(ResultRecord::analyseId)
                .process(new WebhookFunction(
                        new WebhookSender(poster, config.webhookSecret()),
                        retryPolicy,
                        config.webhookMaxInFlight(),
                        checkpointing,
                        config.resultsTopic(),
                        config.webhookMaxPending()))
                .name("webhooks")
                .uid("webhooks");
    }
}
