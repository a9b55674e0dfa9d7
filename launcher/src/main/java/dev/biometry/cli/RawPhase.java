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
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The benchmark's first phase, without Flink or Kafka: the face chain (decode, detect, landmarks, align, embed) in
 * a tight loop on P threads, one engine each (faces/s, the ceiling), then the embed operator's per-media work.
 * Also the check that keeps only images whose main face the job would embed.
 */
final class RawPhase {

    private RawPhase() {}

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
        RawChainBench.Result chain = RawChainBench.run(
                engineConfig,
                threads,
                list.size(),
                seconds,
                (engine, i) ->
                        engine.analyze(list.get(i).jpeg(), list.get(i).name()).hasFace());
        // What the embed-faces operator runs per media, without Flink: file read under the media roots, content
        // sniffing, header check, decode, detect, landmarks, align, sharpness, quality gate, embed.
        MediaFetcher fetcher = new MediaFetcher(
                List.of(images.root().toString()), settings.base().mediaMaxBytes());
        double analyzerSeconds = Math.max(2, seconds / 3);
        err.printf(
                Locale.ROOT,
                "bench: media analyzer as in embed-faces, %d thread(s), %.0f s%n",
                threads,
                analyzerSeconds);
        Map<Thread, MediaAnalyzer> analyzers = new ConcurrentHashMap<>();
        RawChainBench.Result operator =
                RawChainBench.run(engineConfig, threads, list.size(), analyzerSeconds, (engine, i) -> {
                    MediaAnalyzer analyzer = analyzers.computeIfAbsent(
                            Thread.currentThread(),
                            t -> new MediaAnalyzer(engine, policy, MediaAnalyzer.Limits.DEFAULTS));
                    byte[] bytes = fetcher.fetch(list.get(i).file().toUri().toString());
                    return analyzer.analyze(
                                            bytes,
                                            MediaType.IMAGE_FOLDER,
                                            false,
                                            list.get(i).name())
                                    .template()
                            != null;
                });
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
        raw.put("other_processes_cpu_cores", round(chain.cpu().otherProcessesCores(), 2));
        raw.put("embed_operator_work_faces_per_s", round(operator.facesPerSecond(), 2));
        raw.put(
                "embed_operator_work_other_processes_cpu_cores",
                round(operator.cpu().otherProcessesCores(), 2));
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
                "embed-op work    %.1f faces/s: the embed operator's per-media work without Flink "
                        + "(file read, sniff, header check, chain, sharpness, quality gate); other processes %.2f cores%n",
                operator.facesPerSecond(),
                operator.cpu().otherProcessesCores());
        return chain.facesPerSecond();
    }
}
