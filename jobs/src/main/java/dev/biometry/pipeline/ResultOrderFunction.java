package dev.biometry.pipeline;

import java.time.Duration;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Puts each analysis's results in order, keyed by analyse id: the PROCESSING record (from the folder join) before
 * the final one (from the matcher). The two come by different paths and would otherwise reach the results sink
 * through different subtasks and Kafka producers, where a fast final record (an embedding-cache hit, a producer
 * whose transaction already holds the partition) can overtake its PROCESSING record. A final record that arrives
 * first is held until its PROCESSING record comes. Records of analyses that never started (FAILED by the folder
 * join) pass at once. Nothing stays in state once the final record is out; a TTL backs that up.
 */
public class ResultOrderFunction extends KeyedCoProcessFunction<String, ResultRecord, ResultRecord, ResultRecord> {

    private static final long serialVersionUID = 1L;

    private final Duration stateTtl;
    private transient ValueState<Boolean> processingSent;
    private transient ValueState<ResultRecord> heldFinal;

    /** @param stateTtl how long a lone PROCESSING or held final record is kept at most (a backstop) */
    public ResultOrderFunction(Duration stateTtl) {
        this.stateTtl = stateTtl;
    }

    @Override
    public void open(OpenContext openContext) {
        ValueStateDescriptor<Boolean> sent = new ValueStateDescriptor<>("processing-sent", Types.BOOLEAN);
        sent.enableTimeToLive(StateTtl.afterLastWrite(stateTtl));
        processingSent = getRuntimeContext().getState(sent);
        ValueStateDescriptor<ResultRecord> held =
                new ValueStateDescriptor<>("held-final", TypeInformation.of(ResultRecord.class));
        held.enableTimeToLive(StateTtl.afterLastWrite(stateTtl));
        heldFinal = getRuntimeContext().getState(held);
    }

    /** Records of the folder join: PROCESSING of a started analysis, or the final record of one that could not start. */
    @Override
    public void processElement1(ResultRecord record, Context ctx, Collector<ResultRecord> out) throws Exception {
        out.collect(record);
        if (!record.isFinal()) {
            ResultRecord held = heldFinal.value();
            if (held != null) {
                out.collect(held);
                heldFinal.clear();
            } else {
                processingSent.update(true);
            }
        }
    }

    /** Final records of the matcher, whose PROCESSING record the folder join sent. */
    @Override
    public void processElement2(ResultRecord record, Context ctx, Collector<ResultRecord> out) throws Exception {
        if (Boolean.TRUE.equals(processingSent.value())) {
            out.collect(record);
            processingSent.clear();
        } else {
            heldFinal.update(record);
        }
    }
}
