package dev.biometry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.biometry.config.JobConfig;
import java.time.Duration;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code run} reads the {@code biometry.*} keys of the cluster's configuration under its command line. */
class RunCommandTest {

    private static CommandArgs parse(String... argv) {
        return new CommandArgs(new CommandLine(FlinkCommandSpecs.run()).parseArgs(argv));
    }

    @Test
    void clusterKeysApplyAndTheCommandLineWins() {
        Configuration cluster = new Configuration();
        cluster.setString("biometry.checkpoint-interval", "45s");
        cluster.setString("biometry.group-id", "from-config-yaml");
        cluster.setString("parallelism.default", "4"); // Flink's own keys are not the job's business

        JobConfig config = RunCommand.jobConfig(parse("--bootstrap-servers", "k:9092", "--group-id", "cli"), cluster);

        assertThat(config.checkpointInterval()).isEqualTo(Duration.ofSeconds(45));
        assertThat(config.groupId()).isEqualTo("cli");
        assertThat(config.bootstrapServers()).isEqualTo("k:9092");
    }

    @Test
    void aBadClusterKeyIsAUsageErrorNamingTheOption() {
        Configuration cluster = new Configuration();
        cluster.setString("biometry.checkpoint-interval", "soon");
        assertThatThrownBy(() -> RunCommand.jobConfig(parse("--bootstrap-servers", "k:9092"), cluster))
                .isInstanceOf(UsageException.class)
                .hasMessageContaining("checkpoint-interval");
    }
}
