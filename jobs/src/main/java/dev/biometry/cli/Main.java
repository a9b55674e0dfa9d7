package dev.biometry.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Help;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * Command-line entry of the cluster jar ({@code biometry-job.jar}): the commands a cluster runs, {@code run} (the
 * streaming job) and {@code batch}, and the engine's own {@code verify} and {@code evaluate}. Flink provides its
 * classes (the job options are Flink {@code ConfigOption}s): a plain {@code java -jar} of it says so and names the
 * standalone jar.
 * The single-machine tools ({@code local}, {@code bench}, {@code soak}, ...) are in the standalone jar, whose
 * entry ({@code LocalMain} in the launcher module) dispatches them and these through {@link #run(String[], Map,
 * Jar, PrintStream, PrintStream)}. Each command is a picocli subcommand with its own options and {@code --help}.
 */
public final class Main {

    private Main() {}

    /** One command: its picocli spec (options, positionals, usage; made afresh for each parse) and its body. */
    record Command(Supplier<CommandSpec> spec, Body body) {}

    /** What a command does with its parsed arguments and the output streams; returns the exit code. */
    @FunctionalInterface
    interface Body {
        int run(CommandArgs args, PrintStream out, PrintStream err) throws Exception;
    }

    /** A jar's command line: the jar's file name and the text after the list of its commands. */
    record Jar(String name, String footer) {}

    /** Where the standalone jar is built, for messages. */
    static final String LOCAL_JAR = "launcher/target/biometry-local.jar";

    /** The usage text after the commands of either jar. */
    static final String FOOTER = """

            Run COMMAND --help for its options. The job options (run, batch, local, bench, soak) are
            --name value; see docs/operations.md.

            Models are looked up in --models, $BIOMETRY_MODELS_DIR, ./models, then the checkout's models/.
            """;

    static final Jar JAR = new Jar("biometry-job.jar", """

            local, bench, bench-engine, soak, activation-ranges, api: single-machine tools, in the standalone jar
              (java -jar %s COMMAND ...)
            """.formatted(LOCAL_JAR) + FOOTER);

    /** The commands of the standalone jar only: the cluster jar names them in its error message. */
    private static final Set<String> STANDALONE_COMMANDS =
            Set.of("local", "bench", "bench-engine", "soak", "activation-ranges", "api");

    /** The cluster jar's commands by name. */
    static final Map<String, Command> COMMANDS = Collections.unmodifiableMap(jobCommands());

    /** The commands of the cluster jar, in usage order; the standalone jar adds its tools to them. */
    static Map<String, Command> jobCommands() {
        Map<String, Command> commands = new LinkedHashMap<>();
        commands.put("verify", new Command(VerifyCommand::spec, VerifyCommand::run));
        commands.put("evaluate", new Command(EvaluateCommand::spec, EvaluateCommand::run));
        commands.put(
                "run",
                new Command(
                        FlinkCommandSpecs::run, (args, out, err) -> withFlink(() -> RunCommand.run(args, out, err))));
        commands.put(
                "batch",
                new Command(
                        FlinkCommandSpecs::batch,
                        (args, out, err) -> withFlink(() -> BatchCommand.run(args, out, err))));
        return commands;
    }

    /** A command body that needs Flink classes at run time. */
    interface FlinkCommand {
        int run() throws Exception;
    }

    /** Runs {@code command}, or explains how to get Flink on the class path when it is missing. */
    static int withFlink(FlinkCommand command) throws Exception {
        try {
            Class.forName("org.apache.flink.streaming.api.environment.StreamExecutionEnvironment");
        } catch (ClassNotFoundException e) {
            throw new UsageException("this command needs Flink on the class path: run it with " + "`java -jar "
                    + LOCAL_JAR + "`, or submit biometry-job.jar with `flink run`");
        }
        return command.run();
    }

    /**
     * The jar's entry point. From {@code java -jar} it ends the JVM with the command's exit code. Inside Flink
     * ({@code flink run}, the REST API's {@code /jars/{id}/run}, the dashboard's "Submit New Job", application
     * mode) the program's {@code main} runs in a process that Flink owns (the JobManager for REST and application
     * mode), so it returns normally when the command succeeded and throws with the command's messages when it
     * failed: Flink then reports the failure to the submitter and keeps running.
     */
    public static void main(String[] args) {
        main(args, COMMANDS, JAR);
    }

    /** {@link #main(String[])} over the given commands: the standalone jar's entry calls it with its own. */
    static void main(String[] args, Map<String, Command> commands, Jar jar) {
        if (!calledByFlink()) {
            if (!flinkOnClassPath()) {
                // `java -jar biometry-job.jar ...`: the cluster jar leaves Flink to the cluster (it is `provided`).
                System.err.println(WITHOUT_FLINK);
                System.exit(2);
            }
            System.exit(run(args, commands, jar, System.out, System.err));
        }
        ByteArrayOutputStream messages = new ByteArrayOutputStream();
        PrintStream err = new PrintStream(new TeeStream(System.err, messages), true, StandardCharsets.UTF_8);
        int code = run(args, commands, jar, System.out, err);
        err.flush();
        if (code != 0) {
            String said = messages.toString(StandardCharsets.UTF_8).strip();
            if (said.length() > MAX_REPORTED_CHARS) {
                said = said.substring(0, MAX_REPORTED_CHARS) + " ...";
            }
            throw new IllegalStateException("biometry " + (args.length == 0 ? "" : args[0] + " ") + "failed (exit code "
                    + code + ")" + (said.isEmpty() ? "" : ": " + said));
        }
    }

    /** What {@code java -jar biometry-job.jar} says: the cluster jar needs Flink's classes from a Flink installation. */
    static final String WITHOUT_FLINK = """
            biometry-job.jar is the cluster jar: Flink's classes come from the Flink installation that runs it
              (flink run biometry-job.jar run|batch|verify|evaluate ..., or the REST API / dashboard).
            On one machine, run any command with the standalone jar: java -jar %s COMMAND ... (--help lists them)""".formatted(LOCAL_JAR);

    /** Whether Flink's configuration classes can be loaded (the job options are Flink {@code ConfigOption}s). */
    static boolean flinkOnClassPath() {
        try {
            Class.forName("org.apache.flink.configuration.ReadableConfig", false, Main.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /** The most characters of a failed command's messages put into the exception Flink reports. */
    private static final int MAX_REPORTED_CHARS = 4000;

    /** Whether Flink's client code ({@code PackagedProgram}) called this {@code main}, in any process. */
    static boolean calledByFlink() {
        return StackWalker.getInstance()
                .walk(frames -> frames.anyMatch(
                        f -> f.getClassName().startsWith("org.apache.flink.client.program.PackagedProgram")));
    }

    /** Writes to two streams: the process's stderr and the messages a failure reports to Flink. */
    private static final class TeeStream extends OutputStream {
        private final OutputStream first;
        private final OutputStream second;

        TeeStream(OutputStream first, OutputStream second) {
            this.first = first;
            this.second = second;
        }

        @Override
        public void write(int b) throws IOException {
            first.write(b);
            second.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            first.write(b, off, len);
            second.write(b, off, len);
        }

        @Override
        public void flush() throws IOException {
            first.flush();
            second.flush();
        }
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        return run(args, COMMANDS, JAR, out, err);
    }

    /**
     * Runs the command {@code args[0]} of {@code commands}; returns its exit code: 0 for {@code --help} (the jar's,
     * or a command's), 2 for a usage error (an unknown command or option, a missing value, arguments the command
     * refuses), with the message and the usage on {@code err}.
     */
    static int run(String[] args, Map<String, Command> commands, Jar jar, PrintStream out, PrintStream err) {
        // `help` and `help COMMAND` are the jar's and the command's --help.
        if (args.length > 0 && args[0].equals("help")) {
            String[] rest = Arrays.copyOfRange(args, 1, args.length + 1);
            rest[rest.length - 1] = "--help";
            args = rest;
        }
        CommandLine top = commandLine(jar, commands);
        if (args.length > 0 && !args[0].startsWith("-") && !commands.containsKey(args[0])) {
            err.println(args[0] + ": "
                    + (STANDALONE_COMMANDS.contains(args[0])
                            ? "'" + args[0] + "' is a single-machine tool of the standalone jar: java -jar " + LOCAL_JAR
                                    + " " + args[0] + " ..."
                            : "unknown command '" + args[0] + "'"));
            top.usage(err, Help.Ansi.OFF);
            return 2;
        }
        ParseResult parsed;
        try {
            parsed = top.parseArgs(args);
        } catch (ParameterException e) {
            err.println((args.length == 0 || args[0].startsWith("-") ? "" : args[0] + ": ") + e.getMessage());
            UnmatchedArgumentException.printSuggestions(e, err);
            e.getCommandLine().usage(err, Help.Ansi.OFF);
            return 2;
        }
        for (ParseResult p = parsed; p != null; p = p.subcommand()) {
            if (p.isUsageHelpRequested()) {
                p.commandSpec().commandLine().usage(out, Help.Ansi.OFF);
                return 0;
            }
            if (p.isVersionHelpRequested()) {
                p.commandSpec().commandLine().printVersionHelp(out, Help.Ansi.OFF);
                return 0;
            }
        }
        if (!parsed.hasSubcommand()) {
            top.usage(err, Help.Ansi.OFF);
            return 2;
        }
        ParseResult sub = parsed.subcommand();
        String name = sub.commandSpec().name();
        try {
            return commands.get(name).body().run(new CommandArgs(sub), out, err);
        } catch (UsageException e) {
            err.println(name + ": " + e.getMessage());
            sub.commandSpec().commandLine().usage(err, Help.Ansi.OFF);
            return 2;
        } catch (Exception e) {
            err.println(name + ": failed: " + e);
            e.printStackTrace(err);
            return 1;
        }
    }

    /** The jar's command line: {@code --help}, {@code --version} and one subcommand per command. */
    static CommandLine commandLine(Jar jar, Map<String, Command> commands) {
        CommandSpec spec = CommandArgs.command(
                "java -jar " + jar.name(), "Face matching (the Biometry analysis of the Oz API) on Apache Flink.");
        spec.usageMessage()
                .synopsisSubcommandLabel("COMMAND")
                .commandListHeading("%nCommands:%n")
                .footer(jar.footer());
        CommandLine line = new CommandLine(spec);
        commands.forEach(
                (name, command) -> line.addSubcommand(name, command.spec().get()));
        return line;
    }
}
