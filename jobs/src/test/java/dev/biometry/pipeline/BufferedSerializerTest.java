package dev.biometry.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.biometry.api.MediaRef;
import dev.biometry.api.MediaType;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.time.Duration;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.core.memory.DataOutputViewStreamWrapper;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.util.Collector;
import org.junit.jupiter.api.Test;

/**
 * {@link BufferedSerializer}: the same bytes as the serializer it wraps, given to the target in one call instead of
 * one call per byte of every string; state checkpointed with it restores without it and the other way round.
 */
class BufferedSerializerTest {

    private static final FolderMedia MEDIA = new FolderMedia(
            new MediaRef(
                    "folder-1",
                    "media-1",
                    MediaType.IMAGE_FOLDER,
                    new String[] {"photo_selfie", "video_selfie"},
                    "file:///media/folder-1/selfie.jpg",
                    "selfie.jpg",
                    "{\"client\":\"bank\"}"),
            7L);

    private static <T> TypeSerializer<T> plain(TypeInformation<T> type) {
        SerializerConfigImpl config = new SerializerConfigImpl();
        config.setGenericTypes(false); // as the job runs
        return type.createSerializer(config);
    }

    /** Counts the calls an output stream gets: one per byte, or one per array. */
    private static final class CountingStream extends OutputStream {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int singleByteWrites;
        int arrayWrites;

        @Override
        public void write(int b) {
            singleByteWrites++;
            bytes.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            arrayWrites++;
            bytes.write(b, off, len);
        }
    }

    @Test
    void writesTheBytesOfTheSerializerItWrapsInOneCall() throws Exception {
        TypeSerializer<FolderMedia> pojo = plain(TypeInformation.of(FolderMedia.class));
        BufferedSerializer<FolderMedia> buffered = new BufferedSerializer<>(pojo);
        CountingStream direct = new CountingStream();
        CountingStream throughBuffer = new CountingStream();

        pojo.serialize(MEDIA, new DataOutputViewStreamWrapper(direct));
        buffered.serialize(MEDIA, new DataOutputViewStreamWrapper(throughBuffer));

        assertThat(throughBuffer.bytes.toByteArray()).isEqualTo(direct.bytes.toByteArray());
        assertThat(direct.singleByteWrites)
                .as("the wrapped serializer writes strings a byte at a time")
                .isGreaterThan(50);
        assertThat(throughBuffer.singleByteWrites).isZero();
        assertThat(throughBuffer.arrayWrites).isEqualTo(1);
        FolderMedia back = buffered.deserialize(new DataInputDeserializer(throughBuffer.bytes.toByteArray()));
        assertThat(back.sequence()).isEqualTo(7L);
        assertThat(back.media().uri()).isEqualTo(MEDIA.media().uri());
        assertThat(back.media().tags()).containsExactly("photo_selfie", "video_selfie");
    }

    @Test
    void aValueAfterALargeOneIsWrittenWhole() throws Exception {
        BufferedSerializer<String> buffered = new BufferedSerializer<>(plain(Types.STRING));
        DataOutputSerializer out = new DataOutputSerializer(16);

        buffered.serialize("x".repeat(100_000), out);
        buffered.serialize("after", out);

        DataInputDeserializer in = new DataInputDeserializer(out.getCopyOfBuffer());
        assertThat(buffered.deserialize(in)).hasSize(100_000);
        assertThat(buffered.deserialize(in)).isEqualTo("after");
    }

    @Test
    void duplicatesHaveBuffersOfTheirOwnAndEqualTheOriginal() {
        BufferedSerializer<String> buffered = new BufferedSerializer<>(plain(Types.STRING));

        assertThat(buffered.duplicate()).isNotSameAs(buffered).isEqualTo(buffered);
        assertThat(buffered.snapshotConfiguration().restoreSerializer()).isEqualTo(buffered.delegate());
    }

    /** Keeps the last media of each key in map state (with a TTL, as the job's), and emits it on "?". */
    private static final class Remember extends KeyedProcessFunction<String, FolderMedia, String> {
        private final boolean buffered;
        private transient MapState<String, FolderMedia> media;

        Remember(boolean buffered) {
            this.buffered = buffered;
        }

        @Override
        public void open(OpenContext openContext) {
            TypeInformation<FolderMedia> type = TypeInformation.of(FolderMedia.class);
            MapStateDescriptor<String, FolderMedia> descriptor = buffered
                    ? new MapStateDescriptor<>(
                            "media",
                            BufferedSerializer.of(getRuntimeContext(), Types.STRING),
                            BufferedSerializer.of(getRuntimeContext(), type))
                    : new MapStateDescriptor<>("media", Types.STRING, type);
            descriptor.enableTimeToLive(StateTtl.afterLastWrite(Duration.ofHours(24)));
            media = getRuntimeContext().getMapState(descriptor);
        }

        @Override
        public void processElement(FolderMedia value, Context ctx, Collector<String> out) throws Exception {
            if (value.sequence() < 0) {
                FolderMedia kept = media.get("last");
                out.collect(kept == null ? "none" : kept.media().uri() + "#" + kept.sequence());
            } else {
                media.put("last", value);
            }
        }
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, FolderMedia, String> harness(boolean buffered)
            throws Exception {
        return new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(new Remember(buffered)),
                m -> m.media().folderId(),
                Types.STRING);
    }

    private static FolderMedia query() {
        return new FolderMedia(MEDIA.media(), -1L);
    }

    @Test
    void stateCheckpointedWithItRestoresWithoutItAndTheOtherWayRound() throws Exception {
        for (boolean writtenBuffered : new boolean[] {true, false}) {
            OperatorSubtaskState snapshot;
            try (var writer = harness(writtenBuffered)) {
                writer.open();
                writer.processElement(new StreamRecord<>(MEDIA, 1L));
                snapshot = writer.snapshot(1L, 2L);
            }
            try (var reader = harness(!writtenBuffered)) {
                reader.initializeState(snapshot);
                reader.open();
                reader.processElement(new StreamRecord<>(query(), 3L));

                assertThat(reader.extractOutputValues())
                        .as(
                                "written %s, read %s",
                                writtenBuffered ? "buffered" : "plain", writtenBuffered ? "plain" : "buffered")
                        .containsExactly("file:///media/folder-1/selfie.jpg#7");
            }
        }
    }
}
