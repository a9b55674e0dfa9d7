package dev.biometry.pipeline;

import java.time.Duration;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Puts each analysis's results in order and makes its final record the only one, keyed by analyse id and told
 * apart by request ({@link ResultRecord#token()}, so two requests with one analyse id never share state here): the
 * PROCESSING record (from the claim) before the final one (from the matcher). The two come by different paths and
 * would otherwise reach the results sink through different subtasks and Kafka producers, where a fast final record
 * (an embedding-cache hit, a producer whose transaction already holds the partition) can overtake its PROCESSING
 * record. A final record that arrives first is held until its PROCESSING record comes. Records of analyses that
 * never started (FAILED by the folder join) pass at once. The claim's backstop FAILED record passes only when the
 * analysis has a PROCESSING record out and no final record yet; a final record arriving after its backstop went out
 * is dropped. Nothing stays in state once the final record is out; a TTL backs that up.
 */
public class ResultOrderFunction extends KeyedCoProcessFunction<String, ResultRecord, ResultRecord, ResultRecord> {

    private static final long serialVersionUID = 1L;

    /** Where one request's records stand: PROCESSING sent, or its final record held until PROCESSING comes. */
    public record Progress(boolean processingSent, ResultRecord heldFinal) {}

    private final Duration stateTtl;
    private transient MapState<String, Progress> requests;
    private transient RecordAge matchedAge;
    private transient Counter dropped;

    /** @param stateTtl how long a lone PROCESSING or held final record is kept at most (a backstop) */
    public ResultOrderFunction(Duration stateTtl) {
        this.stateTtl = stateTtl;
    }

    @Override
    public void open(OpenContext openContext) {
        MapStateDescriptor<String, Progress> descriptor =
                new MapStateDescriptor<>("requests", Types.STRING, TypeInformation.of(Progress.class));
        descriptor.enableTimeToLive(StateTtl.afterLastWrite(stateTtl));
        requests = getRuntimeContext().getMapState(descriptor);
        dropped = getRuntimeContext().getMetricGroup().counter("finalRecordsDropped");
        matchedAge = RecordAge.register(getRuntimeContext().getMetricGroup(), RecordAge.INPUT);
    }

    private static String request(ResultRecord record) {
        return record.token() == null ? "" : record.token();
    }

    /**
     * Records of the claim: PROCESSING of a started analysis, the final record of one that could not start, or the
     * backstop of a started one.
     */
    @Override
    public void processElement1(ResultRecord record, Context ctx, Collector<ResultRecord> out) throws Exception {
        String request = request(record);
        Progress progress = requests.get(request);
        if (record.backstop()) {
            if (progress != null && progress.processingSent()) {
                out.collect(record);
                requests.remove(request);
            }
            return;
        }
        out.collect(record);
        if (!record.isFinal()) {
            if (progress != null && progress.heldFinal() != null) {
                out.collect(progress.heldFinal());
                requests.remove(request);
            } else {
                requests.put(request, new Progress(true, null));
            }
        }
    }

    /** Final records of the matcher, whose PROCESSING record the claim sent. */
    @Override
    public void processElement2(ResultRecord record, Context ctx, Collector<ResultRecord> out) throws Exception {
        matchedAge.record(ctx.timestamp()); // the final records only: the claim's PROCESSING records are earlier
        String request = request(record);
        Progress progress = requests.get(request);
        if (progress != null && progress.processingSent()) {
            out.collect(record);
            requests.remove(request);
        } else if (progress != null
                || (record.lateAfterMillis() > 0
                        && ctx.timerService().currentProcessingTime() >= record.lateAfterMillis())) {
            // A second final record of one request, or one whose backstop already answered.
            dropped.inc();
        } else {
            requests.put(request, new Progress(false, record));
        }
    }
}
