package dev.biometry.face;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One ONNX Runtime session with a single float input whose direct buffer is reused on every call (a heap
 * buffer would make ORT allocate and copy a new direct buffer per run). Not thread-safe: one per engine.
 */
final class OnnxModel implements AutoCloseable {

    /** Sessions created and not yet closed in this JVM (the soak command watches it for leaks). */
    private static final AtomicInteger OPEN_SESSIONS = new AtomicInteger();

    private final String fileName;
    private final OrtEnvironment env;
    private final OrtSession session;
    private final String inputName;
    private final long[] inputShape;
    private final FloatBuffer input;
    private boolean closed;

    OnnxModel(OrtEnvironment env, OrtSession.SessionOptions options, Path file, String inputName, long[] inputShape)
            throws OrtException {
        if (!Files.isRegularFile(file)) {
            throw new IllegalStateException("model file not found: " + file + " (run models/fetch.sh)");
        }
        this.fileName = file.getFileName().toString();
        this.env = env;
        this.session = env.createSession(file.toString(), options);
        this.inputName = inputName;
        this.inputShape = inputShape.clone();
        try {
            checkInput();
        } catch (RuntimeException | OrtException e) {
            session.close();
            throw e;
        }
        OPEN_SESSIONS.incrementAndGet();
        int elements = Math.toIntExact(Arrays.stream(inputShape).reduce(1, (x, y) -> x * y));
        this.input = ByteBuffer.allocateDirect(elements * Float.BYTES)
                .order(ByteOrder.nativeOrder())
                .asFloatBuffer();
    }

    private void checkInput() throws OrtException {
        NodeInfo info = session.getInputInfo().get(inputName);
        if (info == null || !(info.getInfo() instanceof TensorInfo tensor)) {
            throw new IllegalStateException(
                    fileName + ": no tensor input named '" + inputName + "', inputs are " + session.getInputNames());
        }
        long[] declared = tensor.getShape();
        boolean compatible = declared.length == inputShape.length;
        for (int i = 0; compatible && i < declared.length; i++) {
            compatible = declared[i] < 0 || declared[i] == inputShape[i];
        }
        if (!compatible) {
            throw new IllegalStateException(fileName + ": input '" + inputName + "' has shape "
                    + Arrays.toString(declared) + ", expected " + Arrays.toString(inputShape));
        }
    }

    /** The input buffer, rewound, for the caller to fill completely before {@link #run}. */
    FloatBuffer input() {
        input.clear();
        return input;
    }

    /** Runs the model on the current input and copies each named output into the matching array. */
    void run(String[] outputNames, float[][] outputs) throws OrtException {
        input.rewind();
        try (OnnxTensor tensor = OnnxTensor.createTensor(env, input, inputShape);
                OrtSession.Result result = session.run(Map.of(inputName, tensor))) {
            for (int i = 0; i < outputNames.length; i++) {
                OnnxValue value = result.get(outputNames[i])
                        .orElseThrow(() ->
                                new IllegalStateException(fileName + ": no output " + Arrays.toString(outputNames)));
                FloatBuffer data = ((OnnxTensor) value).getFloatBuffer();
                if (data.remaining() != outputs[i].length) {
                    throw new IllegalStateException(fileName + ": output " + outputNames[i] + " has " + data.remaining()
                            + " values, expected " + outputs[i].length);
                }
                data.get(outputs[i]);
            }
        }
    }

    static int openSessions() {
        return OPEN_SESSIONS.get();
    }

    @Override
    public void close() throws OrtException {
        if (!closed) {
            closed = true;
            session.close();
            OPEN_SESSIONS.decrementAndGet();
        }
    }
}
