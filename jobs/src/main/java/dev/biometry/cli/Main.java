package dev.biometry.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Command-line entry of the cluster jar ({@code biometry-job.jar}): the commands a cluster runs, {@code run} (the
 * streaming job) and {@code batch}, and the engine's own {@code verify} and {@code evaluate} (no Flink needed).
 * The single-machine tools ({@code local}, {@code bench}, {@code soak}, ...) are in the standalone jar, whose
 * entry ({@code LocalMain} in the launcher module) dispatches them and these through {@link #run(String[], Map,
 * String, PrintStream, PrintStream)}.
 */
public final class Main {

    private Main() {}

    /** One command: its arguments after the command name and the output streams; returns the exit code. */
    @FunctionalInterface
    interface Command {
        int run(String[] args, PrintStream out, PrintStream err) throws Exception;
    }

    /** Where the standalone jar is built, for messages. */
    static final String LOCAL_JAR = "launcher/target/biometry-local.jar";

    /** The usage lines of the cluster jar's commands (the standalone jar lists them too). */
    static final String JOB_COMMANDS_USAGE = """
              verify IMG IMG [IMG ...] [--threshold 0.85] [--threshold-min T] [--models DIR] [--embedding-precision int8|fp32]
                  compare the main faces of the images pairwise; print one Oz BIOMETRY analysis (JSON)
              evaluate --faces DIR [--json] [--threads N] [--models DIR] [--embedding-precision int8|fp32]
                  accuracy on a labelled folder (one sub-folder per person): AUC, EER, TAR at FAR, calibration
              run --bootstrap-servers HOST:PORT [job options]
                  the streaming job (on a cluster: flink run jobs/target/biometry-job.jar run ...)
              batch --input requests.jsonl --output results.jsonl [--report report.html] [job options]
              batch --from-kafka TOPIC --until latest --bootstrap-servers HOST:PORT --output results.jsonl ...
                  bounded re-verification in Flink BATCH mode: one final analysis per request, progress, HTML report
            """;

    /** The usage text of a jar: {@code jar} names it, {@code commands} are its commands' usage lines. */
    static String usage(String jar, String commands) {
        return "usage: java -jar " + jar + " COMMAND [options]\n\n" + commands + """

                Job options (run, batch, local, bench, soak): see README "Job options"; each is --name value.

                Models are looked up in --models, $BIOMETRY_MODELS_DIR, ./models, then the checkout's models/.
                """;
    }

    static final String USAGE = usage("biometry-job.jar", JOB_COMMANDS_USAGE + """

              local, bench, bench-engine, soak, activation-ranges: single-machine tools, in the standalone jar
                  (java -jar %s COMMAND ...)
            """.formatted(LOCAL_JAR));

    /** The commands of the standalone jar only: the cluster jar names them in its error message. */
    private static final Set<String> STANDALONE_COMMANDS =
            Set.of("local", "bench", "bench-engine", "soak", "activation-ranges");

    /** The cluster jar's commands by name. */
    static final Map<String, Command> COMMANDS = Map.copyOf(jobCommands());

    /** The commands of the cluster jar, in usage order; the standalone jar adds its tools to them. */
    static Map<String, Command> jobCommands() {
        Map<String, Command> commands = new LinkedHashMap<>();
        commands.put("verify", VerifyCommand::run);
        commands.put("evaluate", EvaluateCommand::run);
        commands.put("run", (args, out, err) -> withFlink(() -> RunCommand.run(args, out, err)));
        commands.put("batch", (args, out, err) -> withFlink(() -> BatchCommand.run(args, out, err)));
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
            throw new Args.UsageException("this command needs Flink on the class path: run it with " + "`java -jar "
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
        main(args, COMMANDS, USAGE);
    }

    /** {@link #main(String[])} over the given commands: the standalone jar's entry calls it with its own. */
    static void main(String[] args, Map<String, Command> commands, String usage) {
        if (!calledByFlink()) {
            System.exit(run(args, commands, usage, System.out, System.err));
        }
        ByteArrayOutputStream messages = new ByteArrayOutputStream();
        PrintStream err = new PrintStream(new TeeStream(System.err, messages), true, StandardCharsets.UTF_8);
        int code = run(args, commands, usage, System.out, err);
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
        return run(args, COMMANDS, USAGE, out, err);
    }

    /** Runs the command {@code args[0]} of {@code commands}; returns its exit code (2 for a usage error). */
    static int run(String[] args, Map<String, Command> commands, String usage, PrintStream out, PrintStream err) {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help")) {
            (args.length == 0 ? err : out).print(usage);
            return args.length == 0 ? 2 : 0;
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        try {
            Command command = commands.get(args[0]);
            if (command == null) {
                throw new Args.UsageException(
                        STANDALONE_COMMANDS.contains(args[0])
                                ? "'" + args[0] + "' is a single-machine tool of the standalone jar: java -jar "
                                        + LOCAL_JAR + " " + args[0] + " ..."
                                : "unknown command '" + args[0] + "'");
            }
            return command.run(rest, out, err);
        } catch (Args.UsageException e) {
            err.println(args[0] + ": " + e.getMessage());
            err.print(usage);
            return 2;
        } catch (Exception e) {
            err.println(args[0] + ": failed: " + e);
            e.printStackTrace(err);
            return 1;
        }
    }
}
