package dev.biometry.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.biometry.api.MediaRef;
import dev.biometry.api.MediaType;
import dev.biometry.config.JobConfig;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.operators.async.AsyncWaitOperatorFactory;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link FetchFunction} in Flink's async I/O operator ({@link AsyncWaitOperatorFactory}, unordered, as the job wires
 * it) on a test harness, against an HTTP server on 127.0.0.1: file URIs pass through, downloads carry their bytes,
 * a failed download and a timed-out one become tasks with their Oz error, a download in flight at a checkpoint is
 * made again after a restore, and nothing is left in the operator's state or timers once the inputs are done.
 */
class FetchFunctionTest {

    private static final long TIMEOUT_MILLIS = 30_000;
    private static final byte[] PHOTO = "not really a JPEG, the fetch does not look".getBytes(StandardCharsets.UTF_8);

    private HttpServer server;
    /** Held by /slow until released. */
    private final CountDownLatch release = new CountDownLatch(1);

    @BeforeEach
    void startServer() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 0);
        server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
        server.createContext("/photo.jpg", ex -> {
            ex.sendResponseHeaders(200, PHOTO.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(PHOTO);
            }
        });
        server.createContext("/missing.jpg", ex -> {
            ex.sendResponseHeaders(404, -1);
            ex.close();
        });
        server.createContext("/slow.jpg", ex -> {
            try {
                release.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            ex.sendResponseHeaders(200, PHOTO.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(PHOTO);
            }
        });
        server.start();
    }

    @AfterEach
    void stopServer() {
        release.countDown();
        server.stop(0);
    }

    @Test
    void fileUrisPassThroughDownloadsCarryTheirBytesAndAFailedDownloadItsError() throws Exception {
        OperatorSubtaskState snapshot;
        try (var harness = harness()) {
            harness.open();
            harness.processElement(new StreamRecord<>(task("file", "file:///data/photo.jpg")));
            harness.processElement(new StreamRecord<>(task("http", url("/photo.jpg"))));
            harness.processElement(new StreamRecord<>(task("gone", url("/missing.jpg"))));
            harness.endInput();

            List<FetchedTask> out = sorted(harness.extractOutputValues());
            assertThat(out).extracting(f -> f.task().media().mediaId()).containsExactly("file", "gone", "http");
            FetchedTask file = out.get(0);
            assertThat(file.failed()).isFalse();
            assertThat(file.bytes())
                    .as("read later by the embedding, under the media roots")
                    .isNull();
            FetchedTask gone = out.get(1);
            assertThat(gone.failed()).isTrue();
            assertThat(gone.error().message()).startsWith("media gone: ").contains("404");
            assertThat(gone.error().code()).isEqualTo(dev.biometry.media.MediaException.Kind.NOT_FOUND.ozErrorCode());
            FetchedTask http = out.get(2);
            assertThat(http.failed()).isFalse();
            assertThat(http.bytes()).isEqualTo(PHOTO);

            assertThat(harness.getProcessingTimeService().getNumActiveTimers())
                    .as("timeout timers of finished downloads")
                    .isZero();
            snapshot = harness.snapshot(1L, 1L);
        }
        // Nothing in flight was checkpointed: a restored operator emits nothing.
        try (var restored = harness()) {
            restored.initializeState(snapshot);
            restored.open();
            restored.endInput();
            assertThat(restored.extractOutputValues()).isEmpty();
            assertThat(restored.getProcessingTimeService().getNumActiveTimers()).isZero();
        }
    }

    @Test
    void aDownloadPastTheOperatorsTimeoutFailsWithError11() throws Exception {
        try (var harness = harness()) {
            harness.open();
            harness.setProcessingTime(0);
            harness.processElement(new StreamRecord<>(task("slow", url("/slow.jpg"))));
            assertThat(harness.getProcessingTimeService().getNumActiveTimers())
                    .as("the download's timeout")
                    .isEqualTo(1);

            harness.setProcessingTime(TIMEOUT_MILLIS + 1);
            harness.endInput();

            assertThat(harness.extractOutputValues()).singleElement().satisfies(f -> {
                assertThat(f.error().code()).isEqualTo(11);
                assertThat(f.error().message()).isEqualTo("media slow: download timed out");
                assertThat(f.bytes()).isNull();
            });
            assertThat(harness.getProcessingTimeService().getNumActiveTimers()).isZero();
        }
    }

    @Test
    void aDownloadInFlightAtACheckpointIsMadeAgainAfterARestore() throws Exception {
        OperatorSubtaskState snapshot;
        try (var harness = harness()) {
            harness.open();
            harness.processElement(new StreamRecord<>(task("slow", url("/slow.jpg"))));
            snapshot = harness.snapshot(1L, 1L);
            assertThat(harness.extractOutputValues()).as("still downloading").isEmpty();
        }
        release.countDown();
        try (var restored = harness()) {
            restored.initializeState(snapshot);
            restored.open();
            restored.endInput();
            assertThat(restored.extractOutputValues()).singleElement().satisfies(f -> {
                assertThat(f.task().media().mediaId()).isEqualTo("slow");
                assertThat(f.bytes()).isEqualTo(PHOTO);
            });
            assertThat(restored.getProcessingTimeService().getNumActiveTimers()).isZero();
        }
    }

    // ---- helpers

    /** The operator as {@link BiometryJob#build} makes it, with downloads allowed from 127.0.0.1. */
    private static OneInputStreamOperatorTestHarness<EmbedTask, FetchedTask> harness() throws Exception {
        JobConfig config = JobConfig.fromOptions(Map.of("http-allow-hosts", "127.0.0.1", "http-allow-private", "true"));
        FetchFunction function = new FetchFunction(BiometryJob.httpFetcher(config), 2);
        return new OneInputStreamOperatorTestHarness<>(
                new AsyncWaitOperatorFactory<>(function, TIMEOUT_MILLIS, 4, AsyncDataStream.OutputMode.UNORDERED),
                TypeInformation.of(EmbedTask.class).createSerializer(new SerializerConfigImpl()));
    }

    private String url(String path) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    private static EmbedTask task(String mediaId, String uri) {
        MediaRef media = new MediaRef("folder-1", mediaId, MediaType.IMAGE_FOLDER, new String[0], uri, null, null);
        AnalysisTicket ticket = new AnalysisTicket("an-" + mediaId, "folder-1", 0.85, null, null, null, 0, 1);
        return new EmbedTask(ticket, 0, media);
    }

    private static List<FetchedTask> sorted(List<FetchedTask> out) {
        return out.stream()
                .sorted(Comparator.comparing((FetchedTask f) -> f.task().media().mediaId()))
                .toList();
    }
}
