package dev.biometry.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.biometry.config.JobConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.changelog.fs.FsStateChangelogOptions;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.StateChangelogOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.RecoveryClaimMode;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.FileUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link BiometryJob#configure}: the restart strategy, state backend and checkpoint storage of each mode; options
 * win over the environment's (under {@code flink run}: the cluster's) configuration, which wins over the mode's
 * defaults; a cluster run without a checkpoint directory and a transaction timeout too short for the checkpoint
 * settings are refused.
 */
class BiometryJobConfigureTest {

    @TempDir
    Path dir;

    private static JobConfig config(String... options) {
        Map<String, String> given = new HashMap<>();
        given.put("bootstrap-servers", "broker-1:9092");
        for (int i = 0; i < options.length; i += 2) {
            given.put(options[i], options[i + 1]);
        }
        return JobConfig.fromOptions(given);
    }

    /** The environment of a {@code flink run} client: its configuration is the cluster's {@code config.yaml}. */
    private static StreamExecutionEnvironment clusterEnv(Configuration clusterConfig) {
        return StreamExecutionEnvironment.getExecutionEnvironment(clusterConfig);
    }

    @Test
    void localRunsUseHashMapStateAndATemporaryCheckpointDirectoryWithTheRestartStrategy() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        BiometryJob.Durability d = BiometryJob.configure(env, config(), BiometryJob.Deployment.LOCAL);
        try {
            ReadableConfig c = env.getConfiguration();
            assertThat(d.stateBackend()).isEqualTo("hashmap");
            assertThat(c.get(StateBackendOptions.STATE_BACKEND)).isEqualTo("hashmap");
            assertThat(c.get(CheckpointingOptions.CHECKPOINT_STORAGE)).isEqualTo("filesystem");
            assertThat(d.temporaryDir())
                    .isDirectory()
                    .satisfies(t -> assertThat(t.getParent()).isEqualTo(Path.of(System.getProperty("java.io.tmpdir"))));
            assertThat(c.get(CheckpointingOptions.CHECKPOINTS_DIRECTORY))
                    .isEqualTo(d.checkpointDir())
                    .isEqualTo(d.temporaryDir().toUri().toString());
            assertRestartStrategyAndCheckpointLimits(env);
            assertThat(env.getCheckpointConfig().getCheckpointInterval()).isEqualTo(10_000L);
        } finally {
            FileUtils.deleteDirectoryQuietly(d.temporaryDir().toFile());
        }
    }

    @Test
    void changelogMaterializationTurnsOnTheChangelogBackendWithItsLogBesideTheCheckpoints() {
        JobConfig changelog = config("checkpoint-dir", dir.toUri().toString(), "changelog-materialization", "10s");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        BiometryJob.configure(env, changelog, BiometryJob.Deployment.LOCAL);
        ReadableConfig c = env.getConfiguration();
        assertThat(c.get(StateChangelogOptions.ENABLE_STATE_CHANGE_LOG)).isTrue();
        assertThat(c.get(StateChangelogOptions.STATE_CHANGE_LOG_STORAGE)).isEqualTo("filesystem");
        assertThat(c.get(StateChangelogOptions.PERIODIC_MATERIALIZATION_INTERVAL))
                .isEqualTo(Duration.ofSeconds(10));
        assertThat(c.get(StateBackendOptions.STATE_BACKEND)).isEqualTo("hashmap"); // the backend it wraps
        // NO_CLAIM (Flink's default) would demand a full snapshot after a restore, which the changelog cannot take.
        assertThat(c.get(StateRecoveryOptions.RESTORE_MODE)).isEqualTo(RecoveryClaimMode.CLAIM);
        // flink-dstl-dfs's own option: the key configure writes is the one the log's storage reads.
        assertThat(c.get(FsStateChangelogOptions.BASE_PATH))
                .isEqualTo(dir.toUri().toString().replaceAll("/+$", "") + "/changelog");

        // A cluster: its TaskManagers read the log's storage from its config.yaml, which must name a durable one.
        assertThatThrownBy(() -> BiometryJob.configure(
                        clusterEnv(new Configuration()), changelog, BiometryJob.Deployment.CLUSTER))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("state.changelog.storage: filesystem")
                .hasMessageContaining("state.changelog.dstl.dfs.base-path");
        Configuration cluster = new Configuration();
        cluster.set(StateChangelogOptions.STATE_CHANGE_LOG_STORAGE, "filesystem");
        cluster.set(FsStateChangelogOptions.BASE_PATH, "s3://bucket/changelog");
        StreamExecutionEnvironment onCluster = clusterEnv(cluster);
        BiometryJob.configure(onCluster, changelog, BiometryJob.Deployment.CLUSTER);
        assertThat(onCluster.getConfiguration().get(StateChangelogOptions.ENABLE_STATE_CHANGE_LOG))
                .isTrue();
        Configuration noClaim = cluster.clone();
        noClaim.set(StateRecoveryOptions.RESTORE_MODE, RecoveryClaimMode.NO_CLAIM); // as `flink run -s` sets it
        StreamExecutionEnvironment restoring = clusterEnv(noClaim);
        BiometryJob.configure(restoring, changelog, BiometryJob.Deployment.CLUSTER);
        assertThat(restoring.getConfiguration().get(StateRecoveryOptions.RESTORE_MODE))
                .isEqualTo(RecoveryClaimMode.CLAIM);
        assertThat(onCluster.getConfiguration().get(FsStateChangelogOptions.BASE_PATH))
                .isEqualTo("s3://bucket/changelog");

        StreamExecutionEnvironment plain = StreamExecutionEnvironment.getExecutionEnvironment();
        BiometryJob.configure(plain, config("checkpoint-dir", dir.toUri().toString()), BiometryJob.Deployment.LOCAL);
        assertThat(plain.getConfiguration().getOptional(StateChangelogOptions.ENABLE_STATE_CHANGE_LOG))
                .isEmpty();
        assertThat(plain.getConfiguration().getOptional(StateRecoveryOptions.RESTORE_MODE))
                .isEmpty();
        assertThatThrownBy(() -> config("changelog-materialization", "-1s"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--changelog-materialization");
    }

    @Test
    void localRunsTakeTheBackendAndDirectoryOptions() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        BiometryJob.Durability d = BiometryJob.configure(
                env,
                config("state-backend", "rocksdb", "checkpoint-dir", dir.toString()),
                BiometryJob.Deployment.LOCAL);

        assertThat(d.temporaryDir()).isNull();
        assertThat(env.getConfiguration().get(StateBackendOptions.STATE_BACKEND))
                .isEqualTo("rocksdb");
        assertThat(env.getConfiguration().get(CheckpointingOptions.INCREMENTAL_CHECKPOINTS))
                .isTrue();
        assertThat(env.getConfiguration().get(CheckpointingOptions.CHECKPOINTS_DIRECTORY))
                .as("a plain path is a local folder")
                .isEqualTo(dir.toUri().toString());
    }

    @Test
    void aClusterRunDefaultsToIncrementalRocksDbInTheGivenDirectory() {
        StreamExecutionEnvironment env = clusterEnv(new Configuration());
        BiometryJob.configure(env, config("checkpoint-dir", "s3://bucket/checkpoints"), BiometryJob.Deployment.CLUSTER);

        ReadableConfig c = env.getConfiguration();
        assertThat(c.get(StateBackendOptions.STATE_BACKEND)).isEqualTo("rocksdb");
        assertThat(c.get(CheckpointingOptions.INCREMENTAL_CHECKPOINTS)).isTrue();
        assertThat(c.get(CheckpointingOptions.CHECKPOINT_STORAGE)).isEqualTo("filesystem");
        assertThat(c.get(CheckpointingOptions.CHECKPOINTS_DIRECTORY)).isEqualTo("s3://bucket/checkpoints");
        assertRestartStrategyAndCheckpointLimits(env);
    }

    @Test
    void aClusterRunWithoutACheckpointDirectoryIsRefused() {
        StreamExecutionEnvironment env = clusterEnv(new Configuration());

        assertThatThrownBy(() -> BiometryJob.configure(env, config(), BiometryJob.Deployment.CLUSTER))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--checkpoint-dir")
                .hasMessageContaining("execution.checkpointing.dir")
                .hasMessageContaining("JobManager");

        Configuration jobManagerStorage = new Configuration();
        jobManagerStorage.set(CheckpointingOptions.CHECKPOINT_STORAGE, "jobmanager");
        jobManagerStorage.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, "file:///shared/checkpoints");
        assertThatThrownBy(() ->
                        BiometryJob.configure(clusterEnv(jobManagerStorage), config(), BiometryJob.Deployment.CLUSTER))
                .hasMessageContaining("jobmanager")
                .hasMessageContaining("--checkpoint-dir");
    }

    /** Options not given leave what the cluster's config.yaml sets alone (the cluster harness configures there). */
    @Test
    void aClusterRunKeepsWhatTheClustersConfigurationSets() {
        Configuration cluster = new Configuration();
        cluster.set(StateBackendOptions.STATE_BACKEND, "hashmap");
        cluster.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, "file:///shared/checkpoints");
        cluster.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        cluster.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 7);
        cluster.set(CheckpointingOptions.CHECKPOINTING_TIMEOUT, Duration.ofMinutes(1));
        cluster.set(CheckpointingOptions.TOLERABLE_FAILURE_NUMBER, 4);
        StreamExecutionEnvironment env = clusterEnv(cluster);

        BiometryJob.Durability d = BiometryJob.configure(env, config(), BiometryJob.Deployment.CLUSTER);

        ReadableConfig c = env.getConfiguration();
        assertThat(d.stateBackend()).isEqualTo("hashmap");
        assertThat(c.get(StateBackendOptions.STATE_BACKEND)).isEqualTo("hashmap");
        assertThat(c.getOptional(CheckpointingOptions.INCREMENTAL_CHECKPOINTS)).isEmpty();
        assertThat(c.get(CheckpointingOptions.CHECKPOINTS_DIRECTORY)).isEqualTo("file:///shared/checkpoints");
        assertThat(c.get(RestartStrategyOptions.RESTART_STRATEGY)).isEqualTo("fixed-delay");
        assertThat(c.get(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS))
                .isEqualTo(7);
        assertThat(c.getOptional(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_MAX_BACKOFF))
                .isEmpty();
        assertThat(env.getCheckpointConfig().getCheckpointTimeout()).isEqualTo(60_000L);
        assertThat(env.getCheckpointConfig().getTolerableCheckpointFailureNumber())
                .isEqualTo(4);

        // RocksDB from the cluster keeps the cluster's choice on incremental checkpoints too.
        Configuration rocks = new Configuration();
        rocks.set(StateBackendOptions.STATE_BACKEND, "rocksdb");
        rocks.set(CheckpointingOptions.INCREMENTAL_CHECKPOINTS, false);
        rocks.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, "file:///shared/checkpoints");
        StreamExecutionEnvironment rocksEnv = clusterEnv(rocks);
        BiometryJob.configure(rocksEnv, config(), BiometryJob.Deployment.CLUSTER);
        assertThat(rocksEnv.getConfiguration().get(CheckpointingOptions.INCREMENTAL_CHECKPOINTS))
                .isFalse();

        // A backend named by its factory class is left as written; incremental checkpoints are added for RocksDB.
        Configuration factory = new Configuration();
        String factoryClass = "org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackendFactory";
        factory.set(StateBackendOptions.STATE_BACKEND, factoryClass);
        factory.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
        factory.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, "file:///shared/checkpoints");
        StreamExecutionEnvironment factoryEnv = clusterEnv(factory);
        BiometryJob.configure(factoryEnv, config(), BiometryJob.Deployment.CLUSTER);
        assertThat(factoryEnv.getConfiguration().get(StateBackendOptions.STATE_BACKEND))
                .isEqualTo(factoryClass);
        assertThat(factoryEnv.getConfiguration().get(CheckpointingOptions.INCREMENTAL_CHECKPOINTS))
                .isTrue();
        assertThat(factoryEnv.getConfiguration().get(CheckpointingOptions.CHECKPOINT_STORAGE))
                .isEqualTo("filesystem");
    }

    @Test
    void givenOptionsWinOverTheClustersConfiguration() {
        Configuration cluster = new Configuration();
        cluster.set(StateBackendOptions.STATE_BACKEND, "rocksdb");
        cluster.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, "file:///shared/checkpoints");
        StreamExecutionEnvironment env = clusterEnv(cluster);

        BiometryJob.configure(
                env,
                config("state-backend", "hashmap", "checkpoint-dir", "s3://other/place"),
                BiometryJob.Deployment.CLUSTER);

        assertThat(env.getConfiguration().get(StateBackendOptions.STATE_BACKEND))
                .isEqualTo("hashmap");
        assertThat(env.getConfiguration().get(CheckpointingOptions.CHECKPOINTS_DIRECTORY))
                .isEqualTo("s3://other/place");
    }

    @Test
    void batchRunsGetTheRestartStrategyAndNoCheckpoints() {
        Configuration conf = new Configuration();
        conf.set(ExecutionOptions.RUNTIME_MODE, RuntimeExecutionMode.BATCH);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);

        BiometryJob.Durability d = BiometryJob.configure(env, config("parallelism", "3"));

        assertThat(d.checkpointDir()).isNull();
        assertThat(env.getParallelism()).isEqualTo(3);
        assertThat(env.getCheckpointConfig().isCheckpointingEnabled()).isFalse();
        assertThat(env.getConfiguration().get(RestartStrategyOptions.RESTART_STRATEGY))
                .isEqualTo("exponential-delay");
    }

    /**
     * A transaction may stay open (tolerated failed checkpoints + 1) x (interval + checkpoint timeout): a shorter
     * transaction timeout is refused at start, also when the checkpoint timeout comes from the cluster.
     */
    @Test
    void aTransactionTimeoutShorterThanTheCheckpointsCanHoldATransactionIsRefused() {
        // 3 x (10 s + 2 min) = 6.5 min
        assertThatThrownBy(() -> BiometryJob.configure(
                        StreamExecutionEnvironment.getExecutionEnvironment(),
                        config("transaction-timeout", "6m", "checkpoint-dir", dir.toString())))
                .hasMessageContaining("--transaction-timeout 360s is too short")
                .hasMessageContaining("390s");
        BiometryJob.configure(
                StreamExecutionEnvironment.getExecutionEnvironment(),
                config("transaction-timeout", "7m", "checkpoint-dir", dir.toString()));

        Configuration cluster = new Configuration();
        cluster.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, "file:///shared/checkpoints");
        cluster.set(CheckpointingOptions.CHECKPOINTING_TIMEOUT, Duration.ofMinutes(10)); // Flink's default, stated
        assertThatThrownBy(() -> BiometryJob.configure(clusterEnv(cluster), config(), BiometryJob.Deployment.CLUSTER))
                .hasMessageContaining("--transaction-timeout 600s is too short")
                .hasMessageContaining("execution.checkpointing.timeout");
    }

    private static void assertRestartStrategyAndCheckpointLimits(StreamExecutionEnvironment env) {
        ReadableConfig c = env.getConfiguration();
        assertThat(c.get(RestartStrategyOptions.RESTART_STRATEGY)).isEqualTo("exponential-delay");
        assertThat(c.get(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_INITIAL_BACKOFF))
                .isEqualTo(Duration.ofSeconds(1));
        assertThat(c.get(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_MAX_BACKOFF))
                .isEqualTo(Duration.ofMinutes(1));
        assertThat(c.get(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_RESET_BACKOFF_THRESHOLD))
                .isEqualTo(Duration.ofMinutes(10));
        assertThat(c.get(RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_ATTEMPTS))
                .isEqualTo(20);
        assertThat(env.getCheckpointConfig().getCheckpointTimeout())
                .isEqualTo(Duration.ofMinutes(2).toMillis());
        assertThat(env.getCheckpointConfig().getTolerableCheckpointFailureNumber())
                .isEqualTo(2);
        assertThat(env.getCheckpointConfig().isCheckpointingEnabled()).isTrue();
    }
}
