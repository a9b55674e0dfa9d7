package dev.biometry.cli;

import dev.biometry.face.FaceAnalysis;
import dev.biometry.face.FaceEngine;
import dev.biometry.face.FaceEngineConfig;
import dev.biometry.face.StageTimings;
import dev.biometry.face.StageTimings.Stage;
import dev.biometry.media.ImageDecoder;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.bytedeco.opencv.opencv_core.Mat;

/**
 * {@code bench-engine [--threads N] [--seconds S] [--images DIR] [--models DIR]}: faces per second of the face
 * chain (detect, landmarks, align, embed) on pre-decoded images, one engine per thread, and milliseconds per stage;
 * JPEG decode is timed apart.
 */
final class BenchEngineCommand {

    private BenchEngineCommand() {}

    static int run(String[] argv, PrintStream out, PrintStream err) throws Exception {
        Args args = Args.parse(argv, Set.of("threads", "seconds", "images", "models"), Set.of());
        int threads = args.intOption("threads", 1);
        double seconds = args.doubleOption("seconds", 10);
        Path models = ModelsLocator.locate(args.option("models"));
        Path imagesDir = Path.of(args.option("images", models.resolve("samples").toString()));
        List<Path> files;
        try (Stream<Path> s = Files.list(imagesDir)) {
            files = s.filter(EvaluateCommand::isImage).sorted().toList();
        }
        if (files.isEmpty()) {
            throw new Args.UsageException("no images in " + imagesDir);
        }
        FaceEngineConfig config = FaceEngineConfig.defaults(models);

        // Decode once (timed) and keep the decoded images for the chain loop.
        StageTimings decode = new StageTimings();
        List<Mat> images = new ArrayList<>();
        List<byte[]> encoded = new ArrayList<>();
        for (Path f : files) {
            encoded.add(Files.readAllBytes(f));
        }
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < files.size(); i++) {
                long t0 = System.nanoTime();
                Mat m = ImageDecoder.decode(encoded.get(i), files.get(i).toString());
                long dt = System.nanoTime() - t0;
                if (round > 0) {
                    decode.add(Stage.DECODE, dt);
                }
                if (round == 0) {
                    images.add(m);
                } else {
                    m.close();
                }
            }
        }

        err.printf(Locale.ROOT, "bench-engine: %d images from %s, %d thread(s), %.0f s after warm-up%n",
                files.size(), imagesDir, threads, seconds);
        AtomicLong faces = new AtomicLong();
        AtomicLong chains = new AtomicLong();
        StageTimings total = new StageTimings();
        CountDownLatch ready = new CountDownLatch(threads);
        long[] window = new long[2];
        List<Thread> workers = new ArrayList<>();
        List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        Object startSignal = new Object();
        boolean[] started = {false};
        for (int t = 0; t < threads; t++) {
            int offset = t;
            Thread worker = new Thread(() -> {
                try (FaceEngine engine = new FaceEngine(config)) {
                    for (Mat m : images) { // warm-up
                        engine.analyze(m);
                    }
                    engine.timings().reset();
                    ready.countDown();
                    synchronized (startSignal) {
                        while (!started[0]) {
                            startSignal.wait();
                        }
                    }
                    long deadline = window[1];
                    int i = offset;
                    while (System.nanoTime() < deadline) {
                        FaceAnalysis a = engine.analyze(images.get(i++ % images.size()));
                        chains.incrementAndGet();
                        if (a.hasFace()) {
                            faces.incrementAndGet();
                        }
                    }
                    synchronized (total) {
                        total.addAll(engine.timings());
                    }
                } catch (Throwable e) {
                    failures.add(e);
                    ready.countDown();
                }
            }, "bench-engine-" + t);
            workers.add(worker);
            worker.start();
        }
        ready.await();
        synchronized (startSignal) {
            window[0] = System.nanoTime();
            window[1] = window[0] + (long) (seconds * 1e9);
            started[0] = true;
            startSignal.notifyAll();
        }
        for (Thread w : workers) {
            w.join();
        }
        images.forEach(Mat::close);
        if (!failures.isEmpty()) {
            throw new IllegalStateException("bench worker failed", failures.get(0));
        }
        double elapsed = (System.nanoTime() - window[0]) / 1e9;
        double facesPerSecond = faces.get() / elapsed;
        var ms = total.meanMillis();
        out.printf(Locale.ROOT, "machine          %d cores, %s%n", Runtime.getRuntime().availableProcessors(), Machine.cpuModel());
        out.printf(Locale.ROOT, "threads          %d (one engine each, ORT intra-op threads %d)%n", threads, config.intraOpThreads());
        out.printf(Locale.ROOT, "faces/s          %.1f (%.1f per thread), chain without decode%n", facesPerSecond, facesPerSecond / threads);
        out.printf(Locale.ROOT, "chain ms/face    %.2f (detect %.2f incl. resize+NMS, landmarks %.2f, align %.2f, embed %.2f)%n",
                ms.get(Stage.DETECT) + ms.get(Stage.LANDMARKS) + ms.get(Stage.ALIGN) + ms.get(Stage.EMBED),
                ms.get(Stage.DETECT), ms.get(Stage.LANDMARKS), ms.get(Stage.ALIGN), ms.get(Stage.EMBED));
        out.printf(Locale.ROOT, "decode ms/image  %.2f (JPEG %s, single thread)%n",
                decode.meanMillis().get(Stage.DECODE), images.isEmpty() ? "" : "sample photos");
        out.printf(Locale.ROOT, "faces            %d in %.1f s (%d chains)%n", faces.get(), elapsed, chains.get());
        return 0;
    }
}
