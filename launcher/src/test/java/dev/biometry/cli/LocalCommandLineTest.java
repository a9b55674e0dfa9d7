package dev.biometry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The command line of the standalone jar: the checks of {@link CommandLineTest} over all its commands (the job
 * options on run, batch, local, bench and soak), and the {@code api} command handing its arguments to the HTTP
 * API's own parser unchanged.
 */
class LocalCommandLineTest {

    @Test
    void everyCommandOfTheStandaloneJarAnswersHelpAndRefusesUnknownOptions() {
        assertThat(LocalMain.COMMANDS.keySet())
                .containsExactly(
                        "verify",
                        "evaluate",
                        "run",
                        "batch",
                        "local",
                        "bench",
                        "bench-engine",
                        "soak",
                        "activation-ranges",
                        "api");
        CommandLineTest.assertEveryCommandAnswersHelp(LocalMain.COMMANDS, LocalMain.JAR);
        CommandLineTest.Outcome local = CommandLineTest.run(LocalMain.COMMANDS, LocalMain.JAR, "local", "--help");
        assertThat(local.out()).contains("--exit-when-done").contains("--checkpoint-interval=VALUE");
        assertThat(local.out()).as("local's own default").contains("Default: 2s");
    }

    @Test
    void apiHandsItsArgumentsToTheHttpApiUnchanged() {
        CommandLineTest.Outcome help = CommandLineTest.run(LocalMain.COMMANDS, LocalMain.JAR, "api", "--help");
        assertThat(help.code()).as(help.err()).isZero();
        assertThat(help.out()).contains("biometry-api.jar").contains("--bootstrap-servers");

        CommandLineTest.Outcome options = CommandLineTest.run(LocalMain.COMMANDS, LocalMain.JAR, "api", "options");
        assertThat(options.code()).as(options.err()).isZero();
        assertThat(options.out()).contains("| `");

        // An option the API does not know reaches the API's parser (its message, not picocli's), in order.
        CommandLineTest.Outcome unknown = CommandLineTest.run(
                LocalMain.COMMANDS, LocalMain.JAR, "api", "serve", "--no-such-api-option=1", "--port", "0");
        assertThat(unknown.code()).isEqualTo(2);
        assertThat(unknown.err()).contains("biometry-api: ").contains("no-such-api-option");
    }
}
