package dev.biometry.pipeline;

import dev.biometry.api.DeadLetter;
import dev.biometry.api.InputParser;
import dev.biometry.config.JobConfig;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import org.apache.flink.api.common.serialization.Encoder;
import org.apache.flink.connector.file.sink.FileSink;
import org.apache.flink.connector.file.src.FileSource;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.functions.sink.filesystem.OutputFileConfig;
import org.apache.flink.streaming.api.functions.sink.filesystem.bucketassigners.BasePathBucketAssigner;

/**
 * Bounded inputs and file outputs of batch re-verification: a JSON-lines requests file (or a range of the requests
 * topic) in, final analysis objects and dead letters as JSON lines out. Output folders hold Flink part files;
 * {@code BatchCommand} merges them into the single files the user asked for.
 */
public final class BatchEndpoints {

    private BatchEndpoints() {}

    /** Requests from a file, written to part files under {@code outputDir}/results and .../dead-letters. */
    public static BiometryJob.Endpoints fromFile(String input, String baseDir, String outputDir) {
        FileSource<RawRecord> requests = FileSource.forRecordStreamFormat(
                        new RequestLinesFormat(new Path(input).getName(), baseDir), new Path(input))
                .build();
        return new BiometryJob.Endpoints(null, requests, results(outputDir), null, deadLetters(outputDir), true);
    }

    /**
     * Requests from {@code topic}, every partition from its earliest offset up to the latest offsets when the run
     * starts ({@code --until latest}); committed offsets of the consumer group are not used.
     */
    public static BiometryJob.Endpoints fromKafka(JobConfig config, String topic, String outputDir) {
        KafkaSource<RawRecord> requests = KafkaSource.<RawRecord>builder()
                .setProperties(config.kafkaProperties())
                .setBootstrapServers(config.bootstrapServers())
                .setTopics(topic)
                .setGroupId(config.groupId() + "-batch")
                .setStartingOffsets(OffsetsInitializer.earliest())
                .setBounded(OffsetsInitializer.latest())
                .setDeserializer(new KafkaEndpoints.RawRecordDeserializer())
                .setProperty("isolation.level", "read_committed")
                .build();
        return new BiometryJob.Endpoints(null, requests, results(outputDir), null, deadLetters(outputDir), true);
    }

    static FileSink<ResultRecord> results(String outputDir) {
        return FileSink.forRowFormat(new Path(outputDir, "results"), lines(ResultRecord::json))
                .withBucketAssigner(new BasePathBucketAssigner<>())
                .withOutputFileConfig(OutputFileConfig.builder()
                        .withPartPrefix("results")
                        .withPartSuffix(".jsonl")
                        .build())
                .build();
    }

    static FileSink<DeadLetter> deadLetters(String outputDir) {
        return FileSink.forRowFormat(new Path(outputDir, "dead-letters"), lines(InputParser::toJson))
                .withBucketAssigner(new BasePathBucketAssigner<>())
                .withOutputFileConfig(OutputFileConfig.builder()
                        .withPartPrefix("dead-letters")
                        .withPartSuffix(".jsonl")
                        .build())
                .build();
    }

    private static <T> Encoder<T> lines(KafkaEndpoints.SerializableFunction<T, String> render) {
        return (T element, OutputStream out) -> {
            out.write(render.apply(element).getBytes(StandardCharsets.UTF_8));
            out.write('\n');
        };
    }
}
