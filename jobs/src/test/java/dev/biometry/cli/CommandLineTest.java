package dev.biometry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.biometry.config.JobConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The command line of the cluster jar on picocli: every command answers {@code --help} with its options (and the
 * job options for {@code run} and {@code batch}, with their defaults), unknown options are usage errors naming the
 * option, and {@code --name=value}, a repeated option and {@code help COMMAND} work. No command body runs past its
 * argument checks here, so no models, Kafka or Flink cluster are needed. The standalone jar's commands are checked
 * the same way by {@code LocalCommandLineTest} through {@link #assertEveryCommandAnswersHelp}.
 */
class CommandLineTest {

    /** The commands that take the job options of {@link JobConfig#OPTIONS}. */
    static final Set<String> JOB_OPTION_COMMANDS = Set.of("run", "batch", "local", "bench", "soak");

    /** What one run of a jar's command line did. */
    record Outcome(int code, String out, String err) {}

    static Outcome run(Map<String, Main.Command> commands, Main.Jar jar, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(
                args,
                commands,
                jar,
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Outcome(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static Outcome run(String... args) {
        return run(Main.COMMANDS, Main.JAR, args);
    }

    /**
     * Every command of {@code commands} answers {@code --help} (and {@code help COMMAND}) with exit code 0 and a usage
     * naming each of its options, the job options with their defaults where the command takes them; the jar's
     * {@code --help} lists every command; an unknown option of every command is exit code 2 naming it.
     */
    static void assertEveryCommandAnswersHelp(Map<String, Main.Command> commands, Main.Jar jar) {
        Outcome top = run(commands, jar, "--help");
        assertThat(top.code()).as(top.err()).isZero();
        for (String name : commands.keySet()) {
            assertThat(top.out()).as(name).containsPattern("(?m)^  " + name + " ");
        }
        for (var entry : commands.entrySet()) {
            String name = entry.getKey();
            List<OptionSpec> options = entry.getValue().spec().get().options();
            for (List<String> args : List.of(List.of(name, "--help"), List.of("help", name))) {
                Outcome help = run(commands, jar, args.toArray(String[]::new));
                assertThat(help.code()).as("%s: %s", args, help.err()).isZero();
                assertThat(help.out())
                        .as(name)
                        .contains(
                                name.equals("api")
                                        ? "--bootstrap-servers"
                                        : "Usage: java -jar " + jar.name() + " " + name);
                for (OptionSpec option : options) {
                    assertThat(help.out())
                            .as("%s names %s", name, option.longestName())
                            .contains(option.longestName());
                }
                if (JOB_OPTION_COMMANDS.contains(name)) {
                    for (JobConfig.Option o : JobConfig.OPTIONS) {
                        assertThat(help.out()).as(name).containsPattern("(?m)^\\s+--" + o.name() + "=VALUE\\b");
                        if (o.defaultValue() != null
                                && !o.defaultValue().isEmpty()
                                && !o.name().equals("checkpoint-interval")) {
                            assertThat(help.out())
                                    .as("%s shows the default of --%s", name, o.name())
                                    .contains("Default: " + o.defaultValue());
                        }
                    }
                }
            }
            if (!name.equals("api")) { // api hands every argument to the HTTP API's own parser
                assertThat(options).as(name).extracting(OptionSpec::longestName).contains("--help");
                Outcome unknown = run(commands, jar, name, "--no-such-option", "1");
                assertThat(unknown.code()).as(name).isEqualTo(2);
                assertThat(unknown.err()).as(name).contains("--no-such-option").contains("Usage: ");
                assertThat(unknown.out()).isEmpty();
            }
        }
    }

    @Test
    void everyCommandOfTheClusterJarAnswersHelpAndRefusesUnknownOptions() {
        assertThat(Main.COMMANDS.keySet()).containsExactly("verify", "evaluate", "run", "batch");
        assertEveryCommandAnswersHelp(Main.COMMANDS, Main.JAR);
        // Only run and batch take the job options.
        assertThat(run("verify", "--help").out()).doesNotContain("--results-topic");
        assertThat(run("run", "--help").out()).contains("--results-topic=VALUE").contains("Default: biometry.results");
    }

    @Test
    void noCommandIsAUsageErrorAndHelpIsNot() {
        Outcome none = run();
        assertThat(none.code()).isEqualTo(2);
        assertThat(none.err()).contains("Commands:").contains("verify");
        for (String help : List.of("--help", "-h", "help")) {
            Outcome outcome = run(help);
            assertThat(outcome.code()).as(help).isZero();
            assertThat(outcome.out()).as(help).contains("Commands:").contains("Run COMMAND --help");
        }
    }

    @Test
    void unknownCommandsAreUsageErrorsAndTheToolsPointToTheStandaloneJar() {
        Outcome unknown = run("frobnicate");
        assertThat(unknown.code()).isEqualTo(2);
        assertThat(unknown.err()).contains("unknown command 'frobnicate'").contains("Commands:");
        Outcome local = run("local", "--help");
        assertThat(local.code()).isEqualTo(2);
        assertThat(local.err())
                .contains("single-machine tool of the standalone jar")
                .contains(Main.LOCAL_JAR);
    }

    @Test
    void optionsTakeTheirValueAfterAnEqualsSignAndTheLastOfARepeatedOneWins() {
        Outcome inline = run("verify", "--threshold=2", "a.jpg", "b.jpg");
        assertThat(inline.code()).isEqualTo(2);
        assertThat(inline.err()).contains("verify: --threshold must be in [0,1]");

        Outcome repeated = run("verify", "--threshold", "2", "--threshold", "0.5", "a.jpg");
        assertThat(repeated.code()).isEqualTo(2);
        assertThat(repeated.err()).contains("verify needs at least two images");

        // An argument starting with @ is a path like any other, not a picocli argument file.
        Outcome at = run("verify", "@no-such-a.jpg", "@no-such-b.jpg");
        assertThat(at.code()).isEqualTo(2);
        assertThat(at.err()).contains("verify: @no-such-a.jpg: no such file");

        Outcome missing = run("verify", "a.jpg", "b.jpg", "--threshold");
        assertThat(missing.code()).isEqualTo(2);
        assertThat(missing.err()).contains("--threshold");
    }

    @Test
    void theCommandsChecksAreUsageErrorsWithTheCommandsUsage() {
        // A job option is accepted by run (an unknown one would be refused first); the missing broker is refused.
        Outcome run = run("run", "--media-topic=m", "--parallelism", "2");
        assertThat(run.code()).isEqualTo(2);
        assertThat(run.err())
                .contains("run: --bootstrap-servers is required")
                .contains("Usage: java -jar biometry-job.jar run");
        // A value the job configuration refuses is a usage error too.
        Outcome bad = run("run", "--bootstrap-servers", "localhost:9092", "--parallelism", "zero");
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).contains("parallelism");

        Outcome batch = run("batch", "--input", "requests.jsonl");
        assertThat(batch.code()).isEqualTo(2);
        assertThat(batch.err()).contains("batch needs --output FILE");

        Outcome stray = run("run", "stray");
        assertThat(stray.code()).isEqualTo(2);
        assertThat(stray.err()).contains("'stray'");
    }
}
