package dev.biometry.face;

import ai.onnxruntime.OrtException;
import dev.biometry.media.MediaException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * Embeds many image files on several threads, one {@link FaceEngine} per thread: for offline evaluation and
 * calibration, not for the streaming job (which runs one engine per Flink slot).
 */
public final class BatchEmbedder {

    /** The outcome for one file: its face count and embedding, or why it could not be read. */
    public record Embedded(Path file, int facesDetected, float[] embedding, String error) {
        public boolean hasEmbedding() {
            return embedding != null;
        }
    }

    private BatchEmbedder() {}

    /**
     * Embeds {@code files} in order on {@code threads} threads; {@code progress} receives the count done so far
     * (from worker threads). Timings of every engine are added to {@code timings} when not null.
     */
    public static List<Embedded> embedAll(
            List<Path> files, FaceEngineConfig config, int threads, IntConsumer progress, StageTimings timings)
            throws OrtException, InterruptedException {
        int workers = Math.max(1, Math.min(threads, files.size()));
        Embedded[] out = new Embedded[files.size()];
        AtomicInteger next = new AtomicInteger();
        AtomicInteger done = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(workers);
        try {
            List<Future<StageTimings>> futures = new ArrayList<>();
            for (int w = 0; w < workers; w++) {
                futures.add(pool.submit(() -> {
                    try (FaceEngine engine = new FaceEngine(config)) {
                        for (int i = next.getAndIncrement(); i < files.size(); i = next.getAndIncrement()) {
                            out[i] = embedOne(engine, files.get(i));
                            progress.accept(done.incrementAndGet());
                        }
                        return engine.timings();
                    }
                }));
            }
            for (Future<StageTimings> f : futures) {
                StageTimings t = f.get();
                if (timings != null) {
                    timings.addAll(t);
                }
            }
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof OrtException ort) {
                throw ort;
            }
            throw new IllegalStateException("embedding failed: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
        return List.of(out);
    }

    private static Embedded embedOne(FaceEngine engine, Path file) throws OrtException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return new Embedded(file, 0, null, "file not found");
        } catch (IOException e) {
            return new Embedded(file, 0, null, "cannot read: " + e.getMessage());
        }
        try {
            FaceAnalysis analysis = engine.analyze(bytes, file.getFileName().toString());
            return new Embedded(file, analysis.facesDetected(), analysis.embedding(), null);
        } catch (MediaException e) {
            return new Embedded(file, 0, null, e.getMessage());
        }
    }
}
