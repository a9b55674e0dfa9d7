package dev.biometry.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.biometry.api.DeadLetter;
import dev.biometry.api.Excerpt;
import dev.biometry.api.InputParser;
import dev.biometry.api.Json;
import dev.biometry.api.OzError;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.typeutils.ResultTypeQueryable;
import org.apache.flink.metrics.Counter;

/**
 * The last line of defence of the sinks: a Kafka producer refuses a record above its {@code max.request.size}, and a
 * sink that throws makes Flink restart on the same record forever. The caps on the input keep records small; any
 * record whose JSON still exceeds {@code maxRecordBytes} (UTF-8) is replaced here, before the sinks, webhooks and the
 * folder roll-up see it, by a small stand-in, counted in the metric {@code oversizedRecords}:
 * <ul>
 *   <li>an analysis: its final record by a FAILED record (error 4) naming the analysis, its PROCESSING record by a
 *       PROCESSING record without the media list (both keep the analysis' {@code meta_data} when it is at most a
 *       quarter of the limit);
 *   <li>a folder: by its roll-up without the media and analyses lists (their counts stay);
 *   <li>a dead letter: its payload is capped at {@code maxPayloadBytes} always, and dropped (with long messages
 *       cut) if the record is still too large.
 * </ul>
 */
public final class OutputBounds {

    /** Longest error message or details of a dead letter that had to be shrunk. */
    static final int MAX_SHRUNK_TEXT_CHARS = 1024;

    private OutputBounds() {}

    /** The analysis record, or its small stand-in when its JSON is larger than {@code maxBytes}. */
    static ResultRecord bound(ResultRecord record, int maxBytes) {
        long size = DeadLetter.utf8Length(record.json());
        if (size <= maxBytes) {
            return record;
        }
        JsonNode big = Json.parseOrNull(record.json());
        ObjectNode small = Json.mapper().createObjectNode();
        for (String field :
                new String[] {"analyse_id", "folder_id", "type", "time_created", "time_updated", "params"}) {
            if (big.hasNonNull(field)) {
                small.set(field, big.get(field));
            }
        }
        // The analysis' own meta_data (capped at parse time) stays when it is small next to the limit: clients
        // find their records by it.
        JsonNode metaData = big.get("meta_data");
        if (metaData != null && DeadLetter.utf8Length(metaData.toString()) <= maxBytes / 4) {
            small.set("meta_data", metaData);
        }
        if (!record.isFinal()) {
            small.put("state", "PROCESSING")
                    .put("resolution_status", "PROCESSING")
                    .put("resolution", "PROCESSING");
            return record.withJson(record.state(), record.resolutionStatus(), small.toString());
        }
        small.put("state", "FAILED").put("resolution_status", "FAILED").put("resolution", "FAILED");
        small.put("error_code", OzError.INVALID_VALUE);
        small.put(
                "error_message",
                "INVALID VALUE: the " + record.state() + " analysis record is " + size
                        + " bytes, above the output limit of " + maxBytes
                        + " bytes (--max-record-bytes): use fewer media "
                        + "or smaller meta_data");
        return record.withJson("FAILED", "FAILED", small.toString());
    }

    /** The folder record, or its roll-up without the lists when its JSON is larger than {@code maxBytes}. */
    static FolderRecord bound(FolderRecord record, int maxBytes) {
        if (DeadLetter.utf8Length(record.json()) <= maxBytes) {
            return record;
        }
        JsonNode big = Json.parseOrNull(record.json());
        ObjectNode small = Json.mapper().createObjectNode();
        for (String field : new String[] {"folder_id", "resolution_status", "time_created", "time_updated"}) {
            if (big.hasNonNull(field)) {
                small.set(field, big.get(field));
            }
        }
        small.putArray("media");
        small.putArray("analyses");
        small.put("media_count", big.path("media_count").asInt(big.path("media").size()));
        small.put(
                "analyses_count",
                big.path("analyses_count").asInt(big.path("analyses").size()));
        small.put("truncated", true);
        return new FolderRecord(record.folderId(), record.resolutionStatus(), small.toString());
    }

    /** The dead letter with its payload capped, and shrunk further if its JSON is still larger than {@code maxBytes}. */
    static DeadLetter bound(DeadLetter deadLetter, int maxPayloadBytes, int maxBytes) {
        DeadLetter capped = deadLetter.withPayloadCapped(maxPayloadBytes);
        if (DeadLetter.utf8Length(InputParser.toJson(capped)) <= maxBytes) {
            return capped;
        }
        return new DeadLetter(
                capped.errorCode(),
                Excerpt.of(capped.errorMessage(), MAX_SHRUNK_TEXT_CHARS),
                Excerpt.of(capped.details(), MAX_SHRUNK_TEXT_CHARS),
                capped.sourceTopic(),
                capped.sourcePartition(),
                capped.sourceOffset(),
                null,
                capped.payloadBase64(),
                true);
    }

    /** {@link #bound(ResultRecord, int)} as an operator. */
    public static Bound<ResultRecord> results(int maxBytes) {
        return new Bound<>(ResultRecord.class, r -> bound(r, maxBytes));
    }

    /** {@link #bound(FolderRecord, int)} as an operator. */
    public static Bound<FolderRecord> folders(int maxBytes) {
        return new Bound<>(FolderRecord.class, f -> bound(f, maxBytes));
    }

    /** {@link #bound(DeadLetter, int, int)} as an operator; a payload cut to its cap counts too. */
    public static Bound<DeadLetter> deadLetters(int maxPayloadBytes, int maxBytes) {
        return new Bound<>(DeadLetter.class, d -> bound(d, maxPayloadBytes, maxBytes));
    }

    /** Applies one of the bounds above and counts what it had to replace in {@code oversizedRecords}. */
    public static final class Bound<T> extends RichMapFunction<T, T> implements ResultTypeQueryable<T> {
        private static final long serialVersionUID = 1L;
        private final Class<T> type;
        private final KafkaEndpoints.SerializableFunction<T, T> bound;
        private transient Counter oversized;

        Bound(Class<T> type, KafkaEndpoints.SerializableFunction<T, T> bound) {
            this.type = type;
            this.bound = bound;
        }

        @Override
        public void open(OpenContext openContext) {
            oversized = getRuntimeContext().getMetricGroup().counter("oversizedRecords");
        }

        @Override
        public T map(T value) {
            T bounded = bound.apply(value);
            if (bounded != value) {
                oversized.inc();
            }
            return bounded;
        }

        @Override
        public TypeInformation<T> getProducedType() {
            return TypeInformation.of(type);
        }
    }
}
