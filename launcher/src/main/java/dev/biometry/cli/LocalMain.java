package dev.biometry.cli;

import dev.biometry.http.ApiMain;
import java.io.PrintStream;
import java.util.Collections;
import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;

/**
 * Command-line entry of the standalone jar ({@code biometry-local.jar}, which bundles Flink and the Kafka broker):
 * the cluster jar's commands ({@link Main}) plus the single-machine tools: {@code local}, {@code bench},
 * {@code bench-engine}, {@code soak}, {@code activation-ranges}, and the Oz HTTP API ({@code api}).
 */
public final class LocalMain {

    private LocalMain() {}

    static final Main.Jar JAR = new Main.Jar("biometry-local.jar", Main.FOOTER);

    /** Every command of the standalone jar: the job's, then the tools. */
    static final Map<String, Main.Command> COMMANDS = commands();

    private static Map<String, Main.Command> commands() {
        Map<String, Main.Command> commands = Main.jobCommands();
        commands.put(
                "local",
                new Main.Command(
                        LocalCommand::spec,
                        (args, out, err) -> Main.withFlink(() -> LocalCommand.run(args, out, err))));
        commands.put(
                "bench",
                new Main.Command(
                        BenchSettings::spec,
                        (args, out, err) -> Main.withFlink(() -> BenchCommand.run(args, out, err))));
        commands.put("bench-engine", new Main.Command(BenchEngineCommand::spec, BenchEngineCommand::run));
        commands.put(
                "soak",
                new Main.Command(
                        SoakCommand::spec, (args, out, err) -> Main.withFlink(() -> SoakCommand.run(args, out, err))));
        commands.put(
                "activation-ranges", new Main.Command(ActivationRangesCommand::spec, ActivationRangesCommand::run));
        commands.put(
                "api",
                new Main.Command(
                        LocalMain::apiSpec,
                        (args, out, err) ->
                                ApiMain.run(args.positionals().toArray(String[]::new), System.in, out, err)));
        return Collections.unmodifiableMap(commands);
    }

    /**
     * The {@code api} command: every argument goes unchanged to {@link ApiMain#run}, which parses its own options
     * and answers {@code --help} with its own usage.
     */
    static CommandSpec apiSpec() {
        CommandSpec spec = CommandSpec.create().name("api");
        spec.usageMessage()
                .description(
                        "The Oz HTTP API (the same as java -jar api/target/biometry-api.jar; docs/http-api.md):",
                        "  api [serve] --bootstrap-servers HOST:PORT [--port 8080] [--demo-user] [api options]",
                        "  api hash-password | api options | api --help");
        spec.parser().unmatchedOptionsArePositionalParams(true).expandAtFiles(false);
        CommandArgs.positionals(spec, "ARGS", "the API's command and options");
        return spec;
    }

    /** The jar's entry point; see {@link Main#main(String[])} for how it ends inside and outside Flink. */
    public static void main(String[] args) {
        Main.main(args, COMMANDS, JAR);
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        return Main.run(args, COMMANDS, JAR, out, err);
    }
}
