package dev.biometry.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.biometry.config.JobConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.api.dag.Transformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.transformations.PartitionTransformation;
import org.apache.flink.streaming.api.transformations.SideOutputTransformation;
import org.apache.flink.streaming.api.transformations.UnionTransformation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every operator of the job has a uid (so savepoints map state back to it after a change of the topology) and a
 * name of its own, not one Flink made up ("Filter", "KeyedProcess", "Flat Map"...). Partitioning, union and
 * side-output transformations are not operators and are skipped.
 */
class BiometryJobTopologyTest {

    /** The project's operator names: lower-case words joined by hyphens; Flink's defaults never look like this. */
    private static final Pattern OWN_NAME = Pattern.compile("[a-z][a-z0-9]*(-[a-z0-9]+)*");

    @TempDir
    Path outputDir;

    @Test
    void everyOperatorOfTheKafkaJobHasAUidAndItsOwnName() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        JobConfig config = JobConfig.fromOptions(Map.of("bootstrap-servers", "broker-1:9092"));
        BiometryJob.configure(env, config);
        BiometryJob.build(env, config, KafkaEndpoints.of(config));

        List<Transformation<?>> operators = operators(env);
        assertThat(operators)
                .extracting(Transformation::getName)
                .contains(
                        "requests-source",
                        "media-source",
                        "parse-media",
                        "parse-requests",
                        "folder-join",
                        "fetch-media",
                        "claim-analysis",
                        "embed-faces",
                        "match",
                        "order-results",
                        "bound-results",
                        "bound-folders",
                        "bound-dead-letters",
                        "results-sink",
                        "inline-media",
                        "folder-status",
                        "folders-sink",
                        "webhook-results",
                        "webhooks",
                        "dead-letter-sink");
        assertThat(problems(operators)).isEmpty();
    }

    @Test
    void everyOperatorOfTheBatchJobHasAUidAndItsOwnName() {
        Configuration conf = new Configuration();
        conf.set(ExecutionOptions.RUNTIME_MODE, RuntimeExecutionMode.BATCH);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        JobConfig config = JobConfig.fromOptions(Map.of());
        BiometryJob.build(
                env,
                config,
                BatchEndpoints.fromFile(
                        outputDir.resolve("requests.jsonl").toString(),
                        outputDir.toString(),
                        outputDir.resolve("out").toString()));

        List<Transformation<?>> operators = operators(env);
        assertThat(operators)
                .extracting(Transformation::getName)
                .contains(
                        "no-media-topic", "final-results", "no-webhooks-in-batch", "results-sink", "dead-letter-sink");
        assertThat(problems(operators)).isEmpty();
    }

    /** The check itself: an operator left with Flink's name and no uid is reported. */
    @Test
    void anOperatorWithoutUidOrWithFlinksDefaultNameIsReported() {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.fromData(1, 2)
                .name("numbers")
                .uid("numbers")
                .filter(n -> n > 1)
                .map(n -> n * 2)
                .name("double")
                .uid("double")
                .print()
                .name("print")
                .uid("print");

        assertThat(problems(operators(env)))
                .singleElement()
                .asString()
                .contains("Filter")
                .contains("uid null");
    }

    /** Every transformation the sinks of {@code env} are built from, except the virtual ones. */
    private static List<Transformation<?>> operators(StreamExecutionEnvironment env) {
        Map<Integer, Transformation<?>> byId = new LinkedHashMap<>();
        for (Transformation<?> sink : env.getTransformations()) {
            for (Transformation<?> t : sink.getTransitivePredecessors()) {
                if (!(t instanceof PartitionTransformation
                        || t instanceof UnionTransformation
                        || t instanceof SideOutputTransformation)) {
                    byId.put(t.getId(), t);
                }
            }
        }
        return new ArrayList<>(byId.values());
    }

    /** One line per operator without a uid, with a name that is not its own, or with a uid another one has. */
    private static List<String> problems(List<Transformation<?>> operators) {
        List<String> problems = new ArrayList<>();
        Map<String, String> uids = new LinkedHashMap<>();
        for (Transformation<?> t : operators) {
            String uid = t.getUid();
            if (uid == null || uid.isBlank() || !OWN_NAME.matcher(t.getName()).matches()) {
                problems.add("operator \"" + t.getName() + "\" uid " + uid);
            } else if (uids.put(uid, t.getName()) != null) {
                problems.add("operator \"" + t.getName() + "\" shares uid " + uid);
            }
        }
        return problems;
    }
}
