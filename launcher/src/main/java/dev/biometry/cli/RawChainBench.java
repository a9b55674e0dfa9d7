package dev.biometry.cli;

import dev.biometry.face.FaceEngine;
import dev.biometry.face.FaceEngineConfig;
import dev.biometry.face.StageTimings;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The ceiling of the benchmark: a tight loop over the benchmark images on {@code threads} threads, one
 * {@link FaceEngine} per thread, for a fixed time after a warm-up; counts the media in which a face was embedded.
 */
final class RawChainBench {

    /** The work done on one image by one thread's engine; true when a face was embedded. */
    interface Work {
        boolean run(FaceEngine engine, int imageIndex) throws Exception;

        /** Called on each worker thread when its warm-up is over and its measured runs begin. */
        default void measuring() {}
    }

    /** Faces per second over the window, with the engines' stage timings and the CPU breakdown of the window. */
    record Result(long faces, long media, double seconds, StageTimings timings, ThreadCpu.Breakdown cpu) {
        double facesPerSecond() {
            return faces / seconds;
        }
    }

    private RawChainBench() {}

    static Result run(FaceEngineConfig config, int threads, int images, double seconds, Work work) throws Exception {
        AtomicLong faces = new AtomicLong();
        AtomicLong media = new AtomicLong();
        StageTimings total = new StageTimings();
        CountDownLatch ready = new CountDownLatch(threads);
        CountDownLatch go = new CountDownLatch(1);
        long[] deadline = new long[1];
        List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int offset = t;
            Thread worker = new Thread(
                    () -> {
                        boolean counted = false;
                        try (FaceEngine engine = new FaceEngine(config)) {
                            for (int round = 0; round < 2; round++) { // warm-up: JIT, ONNX Runtime arenas
                                for (int i = 0; i < images; i++) {
                                    work.run(engine, i);
                                }
                            }
                            engine.timings().reset();
                            work.measuring();
                            ready.countDown();
                            counted = true;
                            go.await();
                            int i = offset;
                            while (System.nanoTime() < deadline[0]) {
                                if (work.run(engine, i++ % images)) {
                                    faces.incrementAndGet();
                                }
                                media.incrementAndGet();
                            }
                            synchronized (total) {
                                total.addAll(engine.timings());
                            }
                        } catch (Throwable e) {
                            failures.add(e);
                            if (!counted) {
                                ready.countDown();
                            }
                        }
                    },
                    "bench-raw-" + t);
            workers.add(worker);
            worker.start();
        }
        ready.await();
        if (!failures.isEmpty()) {
            go.countDown();
            throw new IllegalStateException("raw-chain worker failed", failures.get(0));
        }
        ThreadCpu.Snapshot start = ThreadCpu.take();
        deadline[0] = start.wallNanos() + (long) (seconds * 1e9);
        go.countDown();
        long sleep = deadline[0] - System.nanoTime();
        if (sleep > 0) {
            Thread.sleep(sleep / 1_000_000, (int) (sleep % 1_000_000));
        }
        // Workers stop at their first chain that ends after the deadline: snapshot now, count until they join.
        ThreadCpu.Snapshot end = ThreadCpu.take();
        for (Thread w : workers) {
            w.join();
        }
        if (!failures.isEmpty()) {
            throw new IllegalStateException("raw-chain worker failed", failures.get(0));
        }
        double elapsed = (System.nanoTime() - start.wallNanos()) / 1e9;
        return new Result(faces.get(), media.get(), elapsed, total, ThreadCpu.between(start, end));
    }
}
