package dev.biometry.cli;

import dev.biometry.http.ApiMain;
import java.io.PrintStream;
import java.util.Map;

/**
 * Command-line entry of the standalone jar ({@code biometry-local.jar}, which bundles Flink and the Kafka broker):
 * the cluster jar's commands ({@link Main}) plus the single-machine tools: {@code local}, {@code bench},
 * {@code bench-engine}, {@code soak}, {@code activation-ranges}, and the Oz HTTP API ({@code api}).
 */
public final class LocalMain {

    private LocalMain() {}

    static final String TOOL_COMMANDS_USAGE = """
              local [--requests FILE.jsonl] [--exit-when-done] [--no-ui] [--ui-port 8081] [--timeout 600]
                    [--bootstrap-servers HOST:PORT | --kafka-port 0] [job options]
                  in-process Kafka + local Flink with its dashboard; feeds FILE (or demo folders) and prints results
              bench [--seconds 15] [--warmup 5] [--max-warmup 120] [--parallelism P] [--json] [--in-flight N] [--load 0.5]
                    [--checkpoint-interval 3s] [--latency-checkpoint-interval 100ms] [--buffer-timeout MS]
                    [--object-reuse] [--phases raw,throughput,latency] [--rate R] [--images DIR] [job options]
                  benchmark on 1920x1080 JPEGs in one process: raw face chain (faces/s), the whole job with an
                  in-process broker at maximum rate (analyses/s, faces/s), then at --load of it (latency p50/95/99)
              bench-engine [--threads N] [--seconds S] [--images DIR] [--models DIR] [--embedding-precision fp32,int8] [--json]
                  faces per second and milliseconds per stage of the face chain, fp32 and int8 embedding side by side
              soak [--minutes 30] [--rate 4] [--hostile-every 4] [--report-every 60s] [--drain 180s]
                   [--rss-tolerance 0.10] [--rss-baseline-minute 5] [job options]
                  steady mixed load with hostile inputs through the whole job; prints results/s, heap, direct
                  memory, RSS and ORT sessions per interval; fails on a lost or wrong answer, a restart or RSS growth
              api [serve] --bootstrap-servers HOST:PORT [--port 8080] [--demo-user] [api options] | hash-password | options
                  the Oz HTTP API (the same as java -jar api/target/biometry-api.jar; docs/http-api.md)
              activation-ranges --augmented FILE [--images DIR] [--out FILE] [--models DIR]
                  calibration ranges of the int8 embedding model (see models/calibrate.sh)
            """;

    static final String USAGE = Main.usage("biometry-local.jar", Main.JOB_COMMANDS_USAGE + TOOL_COMMANDS_USAGE);

    /** Every command of the standalone jar: the job's, then the tools. */
    static final Map<String, Main.Command> COMMANDS = commands();

    private static Map<String, Main.Command> commands() {
        Map<String, Main.Command> commands = Main.jobCommands();
        commands.put("local", (args, out, err) -> Main.withFlink(() -> LocalCommand.run(args, out, err)));
        commands.put("bench", (args, out, err) -> Main.withFlink(() -> BenchCommand.run(args, out, err)));
        commands.put("bench-engine", BenchEngineCommand::run);
        commands.put("soak", (args, out, err) -> Main.withFlink(() -> SoakCommand.run(args, out, err)));
        commands.put("activation-ranges", ActivationRangesCommand::run);
        commands.put("api", (args, out, err) -> ApiMain.run(args, System.in, out, err));
        return Map.copyOf(commands);
    }

    /** The jar's entry point; see {@link Main#main(String[])} for how it ends inside and outside Flink. */
    public static void main(String[] args) {
        Main.main(args, COMMANDS, USAGE);
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        return Main.run(args, COMMANDS, USAGE, out, err);
    }
}
