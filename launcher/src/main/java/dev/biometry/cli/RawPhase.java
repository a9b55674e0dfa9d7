package dev.biometry.cli;

import static dev.biometry.cli.BenchFigures.round;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.biometry.api.MediaType;
import dev.biometry.face.FaceEngine;
import dev.biometry.face.FaceEngineConfig;
import dev.biometry.face.FacePolicy;
import dev.biometry.face.MediaAnalyzer;
import dev.biometry.face.MediaFaces;
import dev.biometry.face.StageTimings.Stage;
import dev.biometry.media.MediaFetcher;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The benchmark's first phase, without Flink or Kafka: the face chain (decode, detect, landmarks, align, embed) in
 * a tight loop on P threads, one engine each (faces/s, the ceiling), then the embed operator's per-media work.
 * Also the check that keeps only images whose main face the job would embed.
 */
final class RawPhase {

    private RawPhase() {}

    /**
     * One image through the bare chain, then through what the embed operator runs per media, on the same thread
     * and engine; sums each one's thread CPU time over the faces it embedded once measuring has begun.
     */
    private static final class OperatorWork implements RawChainBench.Work {
        private final ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        private final Map<Thread, MediaAnalyzer> analyzers = new ConcurrentHashMap<>();
        private final Set<Thread> measuring = ConcurrentHashMap.newKeySet();
        private final LongAdder chainNanos = new LongAdder();
        private final LongAdder operatorNanos = new LongAdder();
        private final LongAdder chainFaces = new LongAdder();
        private final LongAdder operatorFaces = new LongAdder();
        private final List<BenchImages.Image> images;
        private final MediaFetcher fetcher;
        private final FacePolicy policy;

        OperatorWork(BenchImages images, BenchSettings settings, FacePolicy policy) {
            this.images = images.images();
            this.fetcher = new MediaFetcher(
                    List.of(images.root().toString()), settings.base().mediaMaxBytes());
            this.policy = policy;
        }

        @Override
        public void measuring() {
            measuring.add(Thread.currentThread());
        }

        @Override
        public boolean run(FaceEngine engine, int i) throws Exception {
            BenchImages.Image image = images.get(i);
            MediaAnalyzer analyzer = analyzers.computeIfAbsent(
                    Thread.currentThread(), t -> new MediaAnalyzer(engine, policy, MediaAnalyzer.Limits.DEFAULTS));
            long c0 = mx.getCurrentThreadCpuTime();
            boolean chainFace = engine.analyze(image.jpeg(), image.name()).hasFace();
            long c1 = mx.getCurrentThreadCpuTime();
            byte[] bytes = fetcher.fetch(image.file().toUri().toString());
            boolean operatorFace = analyzer.analyze(bytes, MediaType.IMAGE_FOLDER, false, image.name())
                            .template()
                    != null;
            long c2 = mx.getCurrentThreadCpuTime();
            if (measuring.contains(Thread.currentThread())) {
                if (chainFace) {
                    chainNanos.add(c1 - c0);
                    chainFaces.increment();
                }
                if (operatorFace) {
                    operatorNanos.add(c2 - c1);
                    operatorFaces.increment();
                }
            }
            return chainFace && operatorFace;
        }

        double chainMillisPerFace() {
            return chainNanos.sum() / 1e6 / chainFaces.sum();
        }

        double operatorMillisPerFace() {
            return operatorNanos.sum() / 1e6 / operatorFaces.sum();
        }
    }

    /** Drops images whose main face the job would not embed (none found, or below the quality gate). */
    static void keepImagesWithAFace(BenchImages images, FaceEngineConfig config, FacePolicy policy, PrintStream report)
            throws Exception {
        List<Integer> keep = new ArrayList<>();
        try (FaceEngine engine = new FaceEngine(config)) {
            MediaAnalyzer analyzer = new MediaAnalyzer(engine, policy, MediaAnalyzer.Limits.DEFAULTS);
            for (int i = 0; i < images.images().size(); i++) {
                BenchImages.Image image = images.images().get(i);
                MediaFaces.Result r = analyzer.analyze(image.jpeg(), MediaType.IMAGE_FOLDER, false, image.name());
                if (r.template() != null
                        && engine.analyze(image.jpeg(), image.name()).hasFace()) {
                    keep.add(i);
                } else {
                    report.printf(Locale.ROOT, "images           %s left out: %s%n", image.name(), r.problem());
                }
            }
        }
        if (keep.size() < 2) {
            throw new UsageException("fewer than two images with a usable face");
        }
        images.retain(keep);
    }

    /** Runs the phase, writes {@code json.raw} and its report line; returns the chain's faces/s. */
    static double run(BenchSettings settings, BenchImages images, ObjectNode json, PrintStream report, PrintStream err)
            throws Exception {
        FaceEngineConfig engineConfig = settings.engineConfig();
        FacePolicy policy = settings.facePolicy();
        int threads = settings.parallelism();
        double seconds = settings.seconds();
        List<BenchImages.Image> list = images.images();
        err.printf(Locale.ROOT, "bench: raw chain, %d thread(s), %.0f s%n", threads, seconds);
        RawChainBench.Result chain = chain(settings, images, seconds);
        // What the embed-faces operator runs per media, without Flink (file read under the media roots, content
        // sniffing, header check, decode, detect, landmarks, align, sharpness, quality gate, embed), interleaved
        // image by image with the bare chain on the same threads and engines, each timed by its thread's CPU clock:
        // run one after the other, the two would also measure whatever else the machine did in between.
        double interleavedSeconds = Math.max(4, seconds / 3);
        err.printf(
                Locale.ROOT,
                "bench: the embed operator's work interleaved with the chain, %d thread(s), %.0f s%n",
                threads,
                interleavedSeconds);
        OperatorWork operatorWork = new OperatorWork(images, settings, policy);
        RawChainBench.run(engineConfig, threads, list.size(), interleavedSeconds, operatorWork);
        var ms = chain.timings().meanMillis();
        double chainMs = ms.get(Stage.DECODE)
                + ms.get(Stage.DETECT)
                + ms.get(Stage.LANDMARKS)
                + ms.get(Stage.ALIGN)
                + ms.get(Stage.EMBED);
        ObjectNode raw = json.putObject("raw");
        raw.put("faces_per_s", round(chain.facesPerSecond(), 2));
        raw.put("faces_per_s_per_thread", round(chain.facesPerSecond() / threads, 2));
        raw.put("faces", chain.faces());
        raw.put("seconds", round(chain.seconds(), 2));
        ObjectNode stages = raw.putObject("ms_per_face");
        for (Stage s : Stage.values()) {
            stages.put(s.name().toLowerCase(Locale.ROOT), round(ms.get(s), 2));
        }
        stages.put("chain", round(chainMs, 2));
        raw.put(
                "process_cpu_cores",
                round(chain.cpu().processCpuSeconds() / chain.cpu().wallSeconds(), 2));
        raw.put("workers_cpu_cores", round(chain.cpu().cores(ThreadCpu.RAW_WORKERS), 3));
        raw.put("workers_cpu_ms_per_face", round(workersCpuMillisPerFace(chain), 2));
        raw.put("other_processes_cpu_cores", round(chain.cpu().otherProcessesCores(), 2));
        raw.put("interleaved_chain_cpu_ms_per_face", round(operatorWork.chainMillisPerFace(), 2));
        raw.put("interleaved_embed_operator_work_cpu_ms_per_face", round(operatorWork.operatorMillisPerFace(), 2));
        raw.put("load_average", Machine.loadAverage());
        report.printf(
                Locale.ROOT,
                "raw chain        %.1f faces/s on %d thread(s) (%.1f per thread), decode included; "
                        + "ms/face %.2f = decode %.2f + detect %.2f + landmarks %.2f + align %.2f + embed %.2f; CPU %.2f cores "
                        + "(other processes %.2f)%n",
                chain.facesPerSecond(),
                threads,
                chain.facesPerSecond() / threads,
                chainMs,
                ms.get(Stage.DECODE),
                ms.get(Stage.DETECT),
                ms.get(Stage.LANDMARKS),
                ms.get(Stage.ALIGN),
                ms.get(Stage.EMBED),
                chain.cpu().processCpuSeconds() / chain.cpu().wallSeconds(),
                chain.cpu().otherProcessesCores());
        report.printf(
                Locale.ROOT,
                "embed-op work    %.2f CPU ms per face: the embed operator's per-media work without Flink (file read, "
                        + "sniff, header check, chain, sharpness, quality gate), image by image with the chain: %.2f "
                        + "(%.3fx)%n",
                operatorWork.operatorMillisPerFace(),
                operatorWork.chainMillisPerFace(),
                operatorWork.operatorMillisPerFace() / operatorWork.chainMillisPerFace());
        return chain.facesPerSecond();
    }

    /** The bare chain on the benchmark images: P threads, one engine each, for {@code seconds}. */
    private static RawChainBench.Result chain(BenchSettings settings, BenchImages images, double seconds)
            throws Exception {
        List<BenchImages.Image> list = images.images();
        return RawChainBench.run(
                settings.engineConfig(),
                settings.parallelism(),
                list.size(),
                seconds,
                (engine, i) ->
                        engine.analyze(list.get(i).jpeg(), list.get(i).name()).hasFace());
    }

    /** CPU milliseconds per face of the chain's worker threads alone (no GC or JIT). */
    private static double workersCpuMillisPerFace(RawChainBench.Result chain) {
        return 1000 * chain.cpu().cores(ThreadCpu.RAW_WORKERS) / chain.facesPerSecond();
    }

    /**
     * The bare chain again, for a third of the window, right after a throughput run (its job stopped): the machine
     * may have changed since the raw run before it (a shared host: 123 and 144 faces/s ten minutes apart in one
     * process), so each throughput run is also compared with the raw runs on both sides of it. Writes {@code
     * raw_after} into {@code throughput} and {@code json.raw_after_throughput} (the latest), prints a report line and
     * returns the chain's faces/s.
     */
    static double after(
            BenchSettings settings,
            BenchImages images,
            ObjectNode json,
            ObjectNode throughput,
            PrintStream report,
            PrintStream err)
            throws Exception {
        double seconds = Math.max(4, settings.seconds() / 3);
        err.printf(Locale.ROOT, "bench: raw chain again, %d thread(s), %.0f s%n", settings.parallelism(), seconds);
        RawChainBench.Result chain = chain(settings, images, seconds);
        double cpuMs = workersCpuMillisPerFace(chain);
        ObjectNode after = throughput.putObject("raw_after");
        after.put("faces_per_s", round(chain.facesPerSecond(), 2));
        after.put("workers_cpu_cores", round(chain.cpu().cores(ThreadCpu.RAW_WORKERS), 3));
        after.put("cpu_ms_per_face", round(cpuMs, 2));
        json.set("raw_after_throughput", after.deepCopy());
        double before = json.path("raw").path("workers_cpu_ms_per_face").asDouble(Double.NaN);
        report.printf(
                Locale.ROOT,
                "raw chain after  %.1f faces/s, %.2f CPU ms per face (%.2f in the first raw run)%n",
                chain.facesPerSecond(),
                cpuMs,
                before);
        return chain.facesPerSecond();
    }
}
