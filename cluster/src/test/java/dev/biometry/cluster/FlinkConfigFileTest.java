package dev.biometry.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The harness runs the repository's shared Flink configuration, changed only where one machine needs it. */
class FlinkConfigFileTest {

    private static final Path SHARED = Path.of("..", "docker", "flink", "config.yaml");

    @TempDir
    Path work;

    @Test
    void theWrittenConfigIsTheSharedOneExceptTheOneMachineOverrides() throws Exception {
        Map<String, String> shared = FlinkConfigFile.read(SHARED);
        try (LocalCluster cluster = new LocalCluster(work, work.resolve("lib"))) {
            Map<String, String> replaced = cluster.writeFlinkConfig(SHARED);
            Map<String, String> written = FlinkConfigFile.read(cluster.configYaml());

            Map<String, String> expected = new HashMap<>(shared);
            expected.putAll(cluster.oneMachineOverrides());
            assertThat(written).isEqualTo(expected);
            // Every key the shared file sets and the harness does not override is carried over unchanged ...
            shared.forEach((k, v) -> {
                if (!replaced.containsKey(k)) {
                    assertThat(written).containsEntry(k, v);
                }
            });
            // ... and the production choices are among them, not re-declared by the harness.
            assertThat(replaced)
                    .doesNotContainKeys(
                            "state.backend.type",
                            "execution.checkpointing.incremental",
                            "execution.checkpointing.timeout",
                            "execution.checkpointing.tolerable-failed-checkpoints",
                            "restart-strategy.type",
                            "classloader.parent-first-patterns.additional",
                            "metrics.reporter.prom.factory.class",
                            "env.java.opts.all");
        }
    }

    @Test
    void flinkReadsTheFlattenedFileAsTheNestedOne() throws Exception {
        try (LocalCluster cluster = new LocalCluster(work, work.resolve("lib"))) {
            cluster.writeFlinkConfig(SHARED);
            Configuration written = GlobalConfiguration.loadConfiguration(
                    cluster.configYaml().getParent().toString());
            Configuration shared =
                    GlobalConfiguration.loadConfiguration(SHARED.getParent().toString());

            assertThat(written.get(StateBackendOptions.STATE_BACKEND))
                    .isEqualTo("rocksdb")
                    .isEqualTo(shared.get(StateBackendOptions.STATE_BACKEND));
            assertThat(written.get(CheckpointingOptions.CHECKPOINTING_TIMEOUT))
                    .isEqualTo(Duration.ofMinutes(2))
                    .isEqualTo(shared.get(CheckpointingOptions.CHECKPOINTING_TIMEOUT));
            assertThat(written.get(CheckpointingOptions.INCREMENTAL_CHECKPOINTS))
                    .isTrue();
            assertThat(written.get(RestartStrategyOptions.RESTART_STRATEGY)).isEqualTo("exponential-delay");
            assertThat(written.get(CheckpointingOptions.CHECKPOINTS_DIRECTORY))
                    .isEqualTo(work.resolve("checkpoints").toUri().toString());
            assertThat(written.get(TaskManagerOptions.NUM_TASK_SLOTS)).isEqualTo(1);
            assertThat(shared.get(TaskManagerOptions.NUM_TASK_SLOTS)).isEqualTo(2);
            assertThat(written.get(TaskManagerOptions.TOTAL_PROCESS_MEMORY)).isEqualTo(MemorySize.parse("2048m"));
            assertThat(written.getString("env.java.opts.all", ""))
                    .isEqualTo(shared.getString("env.java.opts.all", ""))
                    .contains("--add-opens=java.base/java.util=ALL-UNNAMED");
            assertThat(Files.readString(cluster.configYaml())).startsWith("# Written by the cluster harness");
        }
    }
}
