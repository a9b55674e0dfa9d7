package dev.biometry.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Command-line entry of the biometry jar: {@code verify}, {@code evaluate} and {@code bench-engine} run the face
 * engine alone (no Flink needed).
 */
public final class Main {

    private Main() {}

    static final String USAGE = """
            usage: java -jar biometry-job.jar COMMAND [options]

              verify IMG IMG [IMG ...] [--threshold 0.85] [--threshold-min T] [--models DIR] [--embedding-precision int8|fp32]
                  compare the main faces of the images pairwise; print one Oz BIOMETRY analysis (JSON)
              evaluate --faces DIR [--json] [--threads N] [--models DIR] [--embedding-precision int8|fp32]
                  accuracy on a labelled folder (one sub-folder per person): AUC, EER, TAR at FAR, calibration
              bench-engine [--threads N] [--seconds S] [--images DIR] [--models DIR] [--embedding-precision fp32,int8] [--json]
                  faces per second and milliseconds per stage of the face chain, fp32 and int8 embedding side by side
              activation-ranges --augmented FILE [--images DIR] [--out FILE] [--models DIR]
                  calibration ranges of the int8 embedding model (see models/calibrate.sh)
              run --bootstrap-servers HOST:PORT [job options]
                  the streaming job (on a cluster: flink run jobs/target/biometry-job.jar run ...)
              local [--requests FILE.jsonl] [--exit-when-done] [--no-ui] [--ui-port 8081] [--timeout 600]
                    [--bootstrap-servers HOST:PORT | --kafka-port 0] [job options]
                  in-process Kafka + local Flink with its dashboard; feeds FILE (or demo folders) and prints results
                  (needs jobs/target/biometry-local.jar, which bundles Flink and the Kafka broker)
              batch --input requests.jsonl --output results.jsonl [--report report.html] [job options]
              batch --from-kafka TOPIC --until latest --bootstrap-servers HOST:PORT --output results.jsonl ...
                  bounded re-verification in Flink BATCH mode: one final analysis per request, progress, HTML report
              bench [--seconds 15] [--warmup 5] [--max-warmup 120] [--parallelism P] [--json] [--in-flight N] [--load 0.5]
                    [--checkpoint-interval 3s] [--latency-checkpoint-interval 100ms] [--buffer-timeout MS]
                    [--object-reuse] [--phases raw,throughput,latency] [--rate R] [--images DIR] [job options]
                  benchmark on 1920x1080 JPEGs in one process: raw face chain (faces/s), the whole job with an
                  in-process broker at maximum rate (analyses/s, faces/s), then at --load of it (latency p50/95/99)
                  (needs jobs/target/biometry-local.jar)
              soak [--minutes 30] [--rate 4] [--hostile-every 4] [--report-every 60s] [--drain 180s]
                   [--rss-tolerance 0.10] [--rss-baseline-minute 5] [job options]
                  steady mixed load with hostile inputs through the whole job; prints results/s, heap, direct
                  memory, RSS and ORT sessions per interval; fails on a lost or wrong answer, a restart or RSS growth
                  (needs jobs/target/biometry-local.jar)

            Job options (run, local): see README "Job options"; each is --name value.

            Models are looked up in --models, $BIOMETRY_MODELS_DIR, ./models, then the checkout's models/.
            """;

    /** A command body that needs Flink classes at run time. */
    private interface FlinkCommand {
        int run() throws Exception;
    }

    private static int withFlink(FlinkCommand command) throws Exception {
        try {
            Class.forName("org.apache.flink.streaming.api.environment.StreamExecutionEnvironment");
        } catch (ClassNotFoundException e) {
            throw new Args.UsageException("this command needs Flink on the class path: run it with "
                    + "`java -jar jobs/target/biometry-local.jar`, or submit biometry-job.jar with `flink run`");
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
        if (!calledByFlink()) {
            System.exit(run(args, System.out, System.err));
        }
        ByteArrayOutputStream messages = new ByteArrayOutputStream();
        PrintStream err = new PrintStream(new TeeStream(System.err, messages), true, StandardCharsets.UTF_8);
        int code = run(args, System.out, err);
        err.flush();
        if (code != 0) {
            String said = messages.toString(StandardCharsets.UTF_8).strip();
            if (said.length() > MAX_REPORTED_CHARS) {
                said = said.substring(0, MAX_REPORTED_CHARS) + " ...";
            }
            throw new IllegalStateException("biometry " + (args.length == 0 ? "" : args[0] + " ")
                    + "failed (exit code " + code + ")" + (said.isEmpty() ? "" : ": " + said));
        }
    }

    /** The most characters of a failed command's messages put into the exception Flink reports. */
    private static final int MAX_REPORTED_CHARS = 4000;

    /** Whether Flink's client code ({@code PackagedProgram}) called this {@code main}, in any process. */
    static boolean calledByFlink() {
        return StackWalker.getInstance().walk(frames -> frames.anyMatch(
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
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help")) {
            (args.length == 0 ? err : out).print(USAGE);
            return args.length == 0 ? 2 : 0;
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        try {
            return switch (args[0]) {
                case "verify" -> VerifyCommand.run(rest, out, err);
                case "evaluate" -> EvaluateCommand.run(rest, out, err);
                case "bench-engine" -> BenchEngineCommand.run(rest, out, err);
                case "activation-ranges" -> ActivationRangesCommand.run(rest, out, err);
                case "run" -> withFlink(() -> RunCommand.run(rest, out, err));
                case "local" -> withFlink(() -> LocalCommand.run(rest, out, err));
                case "batch" -> withFlink(() -> BatchCommand.run(rest, out, err));
                case "bench" -> withFlink(() -> BenchCommand.run(rest, out, err));
                case "soak" -> withFlink(() -> SoakCommand.run(rest, out, err));
                default -> throw new Args.UsageException("unknown command '" + args[0] + "'");
            };
        } catch (Args.UsageException e) {
            err.println(args[0] + ": " + e.getMessage());
            err.print(USAGE);
            return 2;
        } catch (Exception e) {
            err.println(args[0] + ": failed: " + e);
            e.printStackTrace(err);
            return 1;
        }
    }
}
