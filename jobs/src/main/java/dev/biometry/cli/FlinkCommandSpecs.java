package dev.biometry.cli;

import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;

/**
 * The options and usage of the cluster jar's Flink commands, {@link RunCommand} and {@link BatchCommand}, in a class
 * that references no Flink type: {@code java -jar biometry-job.jar run --help} works without Flink on the class
 * path, where loading those commands' classes would not.
 */
final class FlinkCommandSpecs {

    private FlinkCommandSpecs() {}

    /** {@code run}: the job options. */
    static CommandSpec run() {
        return CommandArgs.jobOptions(
                CommandArgs.command(
                        "run",
                        "The streaming job (on a cluster: flink run jobs/target/biometry-job.jar run ...);"
                                + " --bootstrap-servers is required."),
                Map.of());
    }

    /** {@code batch}: its input, output and report, then the job options. */
    static CommandSpec batch() {
        CommandSpec spec = CommandArgs.command(
                "batch",
                "Bounded re-verification in Flink BATCH mode: one final analysis per request, progress, HTML report.",
                "  batch --input requests.jsonl --output results.jsonl [--report report.html] [job options]",
                "  batch --from-kafka TOPIC --until latest --bootstrap-servers HOST:PORT --output results.jsonl ...");
        CommandArgs.value(spec, "input", "FILE", null, "request lines (JSON lines); or --from-kafka");
        CommandArgs.value(spec, "from-kafka", "TOPIC", null, "read the requests of a Kafka topic instead of --input");
        CommandArgs.value(spec, "until", "latest", "latest", "with --from-kafka: the end offsets when the run starts");
        CommandArgs.value(spec, "output", "FILE", null, "results, one final analysis per request line (required)");
        CommandArgs.value(spec, "report", "FILE", null, "also write an HTML report");
        CommandArgs.value(
                spec, "base-dir", "DIR", null, "folder that relative media paths start from (default: the input's)");
        return CommandArgs.jobOptions(spec, Map.of());
    }
}
