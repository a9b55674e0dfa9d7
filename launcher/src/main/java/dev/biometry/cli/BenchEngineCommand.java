package dev.biometry.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.biometry.api.Json;
import dev.biometry.face.DetectedFace;
import dev.biometry.face.EmbeddingPrecision;
import dev.biometry.face.FaceAnalysis;
import dev.biometry.face.FaceEngine;
import dev.biometry.face.FaceEngineConfig;
import dev.biometry.face.StageTimings;
import dev.biometry.face.StageTimings.Stage;
import dev.biometry.media.ImageDecoder;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.stream.Stream;
import org.bytedeco.opencv.opencv_core.Mat;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code bench-engine [--threads N] [--seconds S] [--images DIR] [--models DIR] [--embedding-precision fp32,int8]
 * [--json]}: faces per second of the face chain (detect, landmarks, align, embed) on pre-decoded images, one engine
 * per thread, and milliseconds per stage; JPEG decode is timed apart. The fp32 and int8 embedding models run side by
 * side in alternating one-second slices of the same run, and their ratio is printed.
 */
final class BenchEngineCommand {

    /** Each embedding model runs for this long in turn, so both see the same background load. */
    static final double SLICE_SECONDS = 1.0;

    private BenchEngineCommand() {}

    /**
     * {@code --embedding-precision fp32|int8|fp32,int8}; by default both side by side, or fp32 alone (saying so)
     * when the int8 model has not been made.
     */
    static List<EmbeddingPrecision> precisions(CommandArgs args, Path models) {
        String given = args.option("embedding-precision");
        if (given == null) {
            if (!Files.isRegularFile(models.resolve(EmbeddingPrecision.INT8.modelFile()))) {
                System.err.println("bench-engine: " + EmbeddingPrecision.INT8.modelFile()
                        + " not found (run models/fetch.sh to make it): fp32 only");
                return List.of(EmbeddingPrecision.FP32);
            }
            return List.of(EmbeddingPrecision.FP32, EmbeddingPrecision.INT8);
        }
        List<EmbeddingPrecision> out = new ArrayList<>();
        try {
            for (String part : given.split(",")) {
                EmbeddingPrecision p = EmbeddingPrecision.parse(part);
                if (!out.contains(p)) {
                    out.add(p);
                }
            }
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        return out;
    }

    static CommandSpec spec() {
        CommandSpec spec = CommandArgs.command(
                "bench-engine",
                "Faces per second and milliseconds per stage of the face chain, fp32 and int8 embedding side by"
                        + " side.");
        CommandArgs.value(spec, "threads", "N", "1", "threads, one engine each");
        CommandArgs.value(spec, "seconds", "S", "10", "measured time");
        CommandArgs.value(spec, "images", "DIR", null, "photos (default: the models' samples/)");
        CommandArgs.value(spec, "models", "DIR", null, ModelsLocator.DESCRIPTION);
        CommandArgs.value(
                spec,
                "embedding-precision",
                "fp32,int8",
                null,
                "embedding models to compare (default: both, or fp32 when the int8 model is missing)");
        CommandArgs.flag(spec, "json", "the figures as one JSON object on stdout (the report on stderr)");
        return spec;
    }

    static int run(CommandArgs args, PrintStream out, PrintStream err) throws Exception {
        int threads = args.intOption("threads", 1);
        double seconds = args.doubleOption("seconds", 10);
        Path models = ModelsLocator.locate(args.option("models"));
        Path imagesDir = Path.of(args.option("images", models.resolve("samples").toString()));
        List<Path> files;
        try (Stream<Path> s = Files.list(imagesDir)) {
            files = s.filter(EvaluateCommand::isImage).sorted().toList();
        }
        if (files.isEmpty()) {
            throw new UsageException("no images in " + imagesDir);
        }
        FaceEngineConfig config = FaceEngineConfig.defaults(models);
        List<EmbeddingPrecision> precisions = precisions(args, models);

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

        err.printf(
                Locale.ROOT,
                "bench-engine: %d images from %s, %d thread(s), %.0f s after warm-up, %s embedding "
                        + "model(s) alternating every %.1f s%n",
                files.size(),
                imagesDir,
                threads,
                seconds,
                precisions.stream().map(EmbeddingPrecision::optionValue).toList(),
                SLICE_SECONDS);
        int n = precisions.size();
        AtomicLongArray faces = new AtomicLongArray(n);
        AtomicLongArray chains = new AtomicLongArray(n);
        AtomicLongArray busyNanos = new AtomicLongArray(n);
        AtomicLongArray chainCpuNanos = new AtomicLongArray(n);
        AtomicLongArray embeds = new AtomicLongArray(n);
        AtomicLongArray embedNanos = new AtomicLongArray(n);
        AtomicLongArray embedCpuNanos = new AtomicLongArray(n);
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        List<StageTimings> totals = new ArrayList<>();
        precisions.forEach(p -> totals.add(new StageTimings()));
        CountDownLatch ready = new CountDownLatch(threads);
        long[] window = new long[2];
        List<Thread> workers = new ArrayList<>();
        List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        Object startSignal = new Object();
        boolean[] started = {false};
        long sliceNanos = (long) (SLICE_SECONDS * 1e9);
        for (int t = 0; t < threads; t++) {
            int offset = t;
            Thread worker = new Thread(
                    () -> {
                        List<FaceEngine> engines = new ArrayList<>();
                        List<Mat> alignedFaces = new ArrayList<>();
                        try {
                            for (EmbeddingPrecision p : precisions) {
                                FaceEngine engine = new FaceEngine(config.withEmbeddingPrecision(p));
                                engines.add(engine);
                                for (Mat m : images) { // warm-up
                                    engine.analyze(m);
                                }
                                engine.timings().reset();
                            }
                            // The main face of each image, aligned, for the embedding-alone slices.
                            FaceEngine first = engines.get(0);
                            for (Mat m : images) {
                                DetectedFace main = FaceEngine.chooseMainFace(first.detect(m), m.cols(), m.rows());
                                if (main != null) {
                                    alignedFaces.add(first.align(m, first.landmarks(m, main.box()))
                                            .clone());
                                }
                            }
                            if (alignedFaces.isEmpty()) {
                                throw new IllegalStateException("no face in the bench images");
                            }
                            ready.countDown();
                            synchronized (startSignal) {
                                while (!started[0]) {
                                    startSignal.wait();
                                }
                            }
                            // Every thread runs the models in the same time slices, in turn, so that both see the same
                            // load from the rest of the machine: the chain with each model, then each model alone on
                            // aligned faces. Thread CPU time gives the per-core figures, which other processes on the
                            // machine disturb far less than wall time.
                            int i = offset;
                            for (int slice = 0; ; slice++) {
                                long sliceStart = window[0] + slice * sliceNanos;
                                if (sliceStart >= window[1]) {
                                    break;
                                }
                                long sliceEnd = Math.min(window[1], sliceStart + sliceNanos);
                                int k = slice % n;
                                boolean embedAlone = slice % (2 * n) >= n;
                                FaceEngine engine = engines.get(k);
                                long t0 = System.nanoTime();
                                long c0 = cpu.getCurrentThreadCpuTime();
                                if (embedAlone) {
                                    while (System.nanoTime() < sliceEnd) {
                                        engine.embedAligned(alignedFaces.get(i++ % alignedFaces.size()));
                                        embeds.incrementAndGet(k);
                                    }
                                    embedNanos.addAndGet(k, System.nanoTime() - t0);
                                    embedCpuNanos.addAndGet(k, cpu.getCurrentThreadCpuTime() - c0);
                                    continue;
                                }
                                while (System.nanoTime() < sliceEnd) {
                                    FaceAnalysis a = engine.analyze(images.get(i++ % images.size()));
                                    chains.incrementAndGet(k);
                                    if (a.hasFace()) {
                                        faces.incrementAndGet(k);
                                    }
                                }
                                busyNanos.addAndGet(k, System.nanoTime() - t0);
                                chainCpuNanos.addAndGet(k, cpu.getCurrentThreadCpuTime() - c0);
                            }
                            for (int k = 0; k < n; k++) {
                                synchronized (totals.get(k)) {
                                    totals.get(k).addAll(engines.get(k).timings());
                                }
                            }
                        } catch (Throwable e) {
                            failures.add(e);
                            ready.countDown();
                        } finally {
                            alignedFaces.forEach(Mat::close);
                            for (FaceEngine engine : engines) {
                                try {
                                    engine.close();
                                } catch (Exception e) {
                                    failures.add(e);
                                }
                            }
                        }
                    },
                    "bench-engine-" + t);
            workers.add(worker);
            worker.start();
        }
        ready.await();
        synchronized (startSignal) {
            window[0] = System.nanoTime();
            // Whole rounds: each model gets the same number of slices.
            long rounds = Math.max(1, Math.round(seconds / (SLICE_SECONDS * 2 * n)));
            window[1] = window[0] + rounds * 2 * n * sliceNanos;
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
        PrintStream report = args.flag("json") ? err : out; // --json: the object alone on stdout
        ObjectNode json = Json.mapper().createObjectNode();
        ObjectNode machine = json.putObject("machine");
        machine.put("cores", Runtime.getRuntime().availableProcessors());
        machine.put("cpu_model", Machine.cpuModel());
        machine.put("cpu_flags", Machine.simdFlags());
        json.put("threads", threads);
        json.put("ort_intra_op_threads", config.intraOpThreads());
        json.put("decode_ms_per_image", decode.meanMillis().get(Stage.DECODE));
        ObjectNode perModel = json.putObject("embedding_models");
        report.printf(
                Locale.ROOT,
                "machine          %d cores, %s (%s)%n",
                Runtime.getRuntime().availableProcessors(),
                Machine.cpuModel(),
                Machine.simdFlags());
        report.printf(
                Locale.ROOT,
                "threads          %d (one engine each, ORT intra-op threads %d)%n",
                threads,
                config.intraOpThreads());
        double[] embedCpuMs = new double[n];
        double[] chainCpuMs = new double[n];
        for (int k = 0; k < n; k++) {
            EmbeddingPrecision p = precisions.get(k);
            double busy = busyNanos.get(k) / 1e9 / threads; // wall seconds this model ran, per thread
            double facesPerSecond = faces.get(k) / busy;
            var ms = totals.get(k).meanMillis();
            double chainMs = ms.get(Stage.DETECT) + ms.get(Stage.LANDMARKS) + ms.get(Stage.ALIGN) + ms.get(Stage.EMBED);
            chainCpuMs[k] = chainCpuNanos.get(k) / 1e6 / Math.max(1, chains.get(k));
            embedCpuMs[k] = embedCpuNanos.get(k) / 1e6 / Math.max(1, embeds.get(k));
            double embedWallMs = embedNanos.get(k) / 1e6 / Math.max(1, embeds.get(k)) * threads;
            report.printf(
                    Locale.ROOT,
                    "%-5s chain      %.1f faces/s (%.1f per thread); %.2f CPU ms per image = %.1f faces/s per core%n",
                    p.optionValue(),
                    facesPerSecond,
                    facesPerSecond / threads,
                    chainCpuMs[k],
                    1000 / chainCpuMs[k]);
            report.printf(
                    Locale.ROOT,
                    "%-5s ms/face    %.2f wall (detect %.2f incl. resize+NMS, landmarks %.2f, align %.2f, embed %.2f)%n",
                    p.optionValue(),
                    chainMs,
                    ms.get(Stage.DETECT),
                    ms.get(Stage.LANDMARKS),
                    ms.get(Stage.ALIGN),
                    ms.get(Stage.EMBED));
            report.printf(
                    Locale.ROOT,
                    "%-5s embedding  alone: %.2f CPU ms = %.1f faces/s per core (%.2f ms wall)%n",
                    p.optionValue(),
                    embedCpuMs[k],
                    1000 / embedCpuMs[k],
                    embedWallMs);
            perModel.putObject(p.optionValue())
                    .put("model_file", p.modelFile())
                    .put("faces", faces.get(k))
                    .put("chains", chains.get(k))
                    .put("seconds_per_thread", busy)
                    .put("faces_per_second", facesPerSecond)
                    .put("faces_per_second_per_thread", facesPerSecond / threads)
                    .put("chain_ms", chainMs)
                    .put("detect_ms", ms.get(Stage.DETECT))
                    .put("landmarks_ms", ms.get(Stage.LANDMARKS))
                    .put("align_ms", ms.get(Stage.ALIGN))
                    .put("embed_ms", ms.get(Stage.EMBED))
                    .put("chain_cpu_ms", chainCpuMs[k])
                    .put("chain_faces_per_core_second", 1000 / chainCpuMs[k])
                    .put("embedding_alone_cpu_ms", embedCpuMs[k])
                    .put("embedding_alone_wall_ms", embedWallMs)
                    .put("embedding_faces_per_core_second", 1000 / embedCpuMs[k]);
        }
        int fp32 = precisions.indexOf(EmbeddingPrecision.FP32);
        int int8 = precisions.indexOf(EmbeddingPrecision.INT8);
        if (fp32 >= 0 && int8 >= 0) {
            double embedRatio = embedCpuMs[fp32] / embedCpuMs[int8];
            double chainRatio = chainCpuMs[fp32] / chainCpuMs[int8];
            report.printf(
                    Locale.ROOT,
                    "int8/fp32        embedding %.2fx faces/s per core, chain %.2fx faces/s per core "
                            + "(CPU time, same run, alternating slices)%n",
                    embedRatio,
                    chainRatio);
            json.put("int8_over_fp32_embedding", embedRatio);
            json.put("int8_over_fp32_chain", chainRatio);
        }
        report.printf(
                Locale.ROOT,
                "decode ms/image  %.2f (JPEG %s, single thread)%n",
                decode.meanMillis().get(Stage.DECODE),
                images.isEmpty() ? "" : "sample photos");
        report.printf(Locale.ROOT, "run              %.1f s in total%n", elapsed);
        json.put("seconds", elapsed);
        if (args.flag("json")) {
            out.println(Json.mapper().writeValueAsString(json));
        }
        return 0;
    }
}
