package dev.biometry.pipeline;

import java.io.IOException;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.core.memory.DataOutputView;

/**
 * A state serializer that writes exactly the bytes of the serializer it wraps, but into a buffer of its own first and
 * then to the target in one call. The heap state backend writes each checkpoint through a {@code DataOutputStream},
 * whose {@code write(int)} is synchronised on Java 17, and Flink's serializers write a string one byte per call: with
 * the job's folder state, those single-byte writes were two thirds of the snapshot thread's profile samples, and the
 * wrapped state took about a third less of its CPU per checkpointed MB (docs/performance.md). The bytes and the
 * serializer snapshot are the wrapped serializer's, so savepoints taken with or without the wrapper restore either
 * way. With RocksDB, which serializes on every access into a buffer of its own, it costs one more copy.
 */
public final class BufferedSerializer<T> extends TypeSerializer<T> {

    private static final long serialVersionUID = 1L;

    private final TypeSerializer<T> delegate;
    /** This instance's buffer: a serializer with a buffer is stateful, so {@link #duplicate} makes a new one. */
    private transient DataOutputSerializer buffer;

    public BufferedSerializer(TypeSerializer<T> delegate) {
        this.delegate = delegate;
    }

    /** The serializer the job would use for {@code type}, wrapped. */
    public static <T> BufferedSerializer<T> of(RuntimeContext context, TypeInformation<T> type) {
        return new BufferedSerializer<>(context.createSerializer(type));
    }

    TypeSerializer<T> delegate() {
        return delegate;
    }

    @Override
    public void serialize(T record, DataOutputView target) throws IOException {
        if (buffer == null) {
            buffer = new DataOutputSerializer(256);
        }
        buffer.clear();
        delegate.serialize(record, buffer);
        target.write(buffer.getSharedBuffer(), 0, buffer.length());
        if (buffer.getSharedBuffer().length > 64 * 1024) {
            buffer = null; // a rare large value does not pin its buffer
        }
    }

    @Override
    public T deserialize(DataInputView source) throws IOException {
        return delegate.deserialize(source);
    }

    @Override
    public T deserialize(T reuse, DataInputView source) throws IOException {
        return delegate.deserialize(reuse, source);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        delegate.copy(source, target);
    }

    @Override
    public boolean isImmutableType() {
        return delegate.isImmutableType();
    }

    @Override
    public TypeSerializer<T> duplicate() {
        return new BufferedSerializer<>(delegate.duplicate());
    }

    @Override
    public T createInstance() {
        return delegate.createInstance();
    }

    @Override
    public T copy(T from) {
        return delegate.copy(from);
    }

    @Override
    public T copy(T from, T reuse) {
        return delegate.copy(from, reuse);
    }

    @Override
    public int getLength() {
        return delegate.getLength();
    }

    /** The wrapped serializer's snapshot: the bytes are its bytes, and a restore may use either serializer. */
    @Override
    public TypeSerializerSnapshot<T> snapshotConfiguration() {
        return delegate.snapshotConfiguration();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof BufferedSerializer<?> that && delegate.equals(that.delegate);
    }

    @Override
    public int hashCode() {
        return delegate.hashCode();
    }

    @Override
    public String toString() {
        return "BufferedSerializer(" + delegate + ")";
    }
}
