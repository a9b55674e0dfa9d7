package dev.biometry.pipeline;

import dev.biometry.api.DeadLetter;
import dev.biometry.api.InputLimits;
import dev.biometry.api.InputParser;
import dev.biometry.api.MediaRef;
import dev.biometry.api.ParseResult;
import dev.biometry.api.RequestEnvelope;
import dev.biometry.api.RequestLines;
import dev.biometry.api.SourceRef;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.apache.flink.api.common.accumulators.DoubleCounter;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/** Parse steps of the two input topics: valid records go on, invalid ones to {@link #DEAD_LETTERS}. */
public final class ParseFunctions {

    /** Input records that failed parsing or validation. */
    public static final OutputTag<DeadLetter> DEAD_LETTERS =
            new OutputTag<>("dead-letters", TypeInformation.of(DeadLetter.class));

    private ParseFunctions() {}

    private static SourceRef source(RawRecord r) {
        return new SourceRef(r.topic(), r.partition(), r.offset());
    }

    /** Turns raw records into values of one input topic; records that fail go to {@link #DEAD_LETTERS}. */
    abstract static class ParseStep<T> extends ProcessFunction<RawRecord, T> {
        private static final long serialVersionUID = 1L;
        private transient Counter deadLetters;
        private transient RecordAge inputAge;

        abstract ParseResult<T> parse(RawRecord raw, long nowMillis);

        @Override
        public void open(OpenContext openContext) {
            deadLetters = getRuntimeContext().getMetricGroup().counter("deadLetters");
            inputAge = RecordAge.register(getRuntimeContext().getMetricGroup(), RecordAge.INPUT);
        }

        @Override
        public void processElement(RawRecord raw, Context ctx, Collector<T> out) {
            inputAge.record(ctx.timestamp());
            ParseResult<T> parsed = parse(raw, ctx.timerService().currentProcessingTime());
            if (parsed.isOk()) {
                out.collect(parsed.value());
            } else {
                deadLetters.inc();
                ctx.output(DEAD_LETTERS, parsed.deadLetter());
                rejected(raw);
            }
        }

        /** Called for each record that became a dead letter. */
        void rejected(RawRecord raw) {}
    }

    /** Parses the media topic. */
    public static final class Media extends ParseStep<MediaRef> {
        private static final long serialVersionUID = 1L;
        private final InputLimits limits;

        public Media() {
            this(InputLimits.DEFAULTS);
        }

        public Media(InputLimits limits) {
            this.limits = limits;
        }

        @Override
        ParseResult<MediaRef> parse(RawRecord raw, long nowMillis) {
            return InputParser.parseMedia(raw.value(), source(raw), limits);
        }
    }

    /**
     * Parses the requests topic; analyses without an id get a random UUID. A rejected request counts as done in the
     * batch progress ({@link PipelineMetrics#PROGRESS_ACCUMULATOR}) for as many analyses as the batch total
     * counted for its line, so that progress reaches the total.
     */
    public static final class Requests extends ParseStep<RequestEnvelope> {
        private static final long serialVersionUID = 1L;
        private final InputLimits limits;
        private transient DoubleCounter progress;

        public Requests() {
            this(InputLimits.DEFAULTS);
        }

        public Requests(InputLimits limits) {
            this.limits = limits;
        }

        @Override
        public void open(OpenContext openContext) {
            super.open(openContext);
            progress = getRuntimeContext().getDoubleCounter(PipelineMetrics.PROGRESS_ACCUMULATOR);
        }

        @Override
        void rejected(RawRecord raw) {
            progress.add(
                    raw.value() == null
                            ? 1
                            : RequestLines.analysesCounted(new String(raw.value(), StandardCharsets.UTF_8)));
        }

        @Override
        ParseResult<RequestEnvelope> parse(RawRecord raw, long nowMillis) {
            return InputParser.parseRequest(
                    raw.value(), source(raw), nowMillis, () -> UUID.randomUUID().toString(), limits);
        }
    }
}
