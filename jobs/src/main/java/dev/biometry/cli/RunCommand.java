package dev.biometry.cli;

import dev.biometry.config.JobConfig;
import dev.biometry.pipeline.BiometryJob;
import dev.biometry.pipeline.KafkaEndpoints;
import dev.biometry.pipeline.KafkaTopics;
import java.io.PrintStream;
import java.util.HashMap;
import java.util.Map;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * {@code run --bootstrap-servers HOST:PORT [options]}: submits the streaming job to the environment it runs in
 * (a cluster under {@code flink run}). Every option is a {@link JobConfig} key.
 */
final class RunCommand {

    private RunCommand() {}

    static int run(CommandArgs args, PrintStream out, PrintStream err) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        // The biometry.* keys of the cluster's config.yaml, under the options given on the command line.
        JobConfig config = jobConfig(args, env.getConfiguration());
        if (config.bootstrapServers() == null || config.bootstrapServers().isBlank()) {
            throw new UsageException("--bootstrap-servers is required");
        }
        KafkaTopics.ensure(config);
        try {
            // Under flink run, env's configuration is the cluster's: options not given leave its settings alone.
            BiometryJob.configure(env, config, BiometryJob.Deployment.CLUSTER);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        BiometryJob.build(env, config, KafkaEndpoints.of(config));
        env.execute("biometry");
        return 0;
    }

    /** The job configuration from the command line over the {@code biometry.*} keys of {@code cluster}. */
    static JobConfig jobConfig(CommandArgs args, ReadableConfig cluster) {
        Map<String, String> given = new HashMap<>();
        args.putJobOptions(given);
        try {
            return JobConfig.fromOptions(given, cluster, System.getenv());
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }

    /** The job configuration from the command line, over {@code defaults} that the command chooses. */
    static JobConfig jobConfig(CommandArgs args, Map<String, String> defaults) {
        return jobConfig(args, defaults, Map.of());
    }

    /** As {@link #jobConfig(CommandArgs, Map)}, with {@code overrides} taking precedence over the command line. */
    static JobConfig jobConfig(CommandArgs args, Map<String, String> defaults, Map<String, String> overrides) {
        Map<String, String> given = new HashMap<>(defaults);
        args.putJobOptions(given);
        given.putAll(overrides);
        try {
            return JobConfig.fromOptions(given);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }
}
