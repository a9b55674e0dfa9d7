package dev.biometry.pipeline;

import dev.biometry.api.OzError;
import dev.biometry.media.HttpMediaFetcher;
import dev.biometry.media.MediaException;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;

/**
 * Downloads http(s) media off the task thread (Flink async I/O), so slow servers never block inference. Other URIs
 * pass through untouched. A failed or timed-out download becomes a task carrying its error, never a job failure.
 */
public class FetchFunction extends RichAsyncFunction<EmbedTask, FetchedTask> {

    private static final long serialVersionUID = 1L;

    private final HttpMediaFetcher fetcher;
    private final int threads;

    private transient ExecutorService executor;
    private transient Counter downloads;
    private transient Counter downloadFailures;

    public FetchFunction(HttpMediaFetcher fetcher, int threads) {
        this.fetcher = fetcher;
        this.threads = threads;
    }

    @Override
    public void open(OpenContext openContext) {
        executor = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "media-fetch");
            t.setDaemon(true);
            return t;
        });
        downloads = getRuntimeContext().getMetricGroup().counter("mediaDownloads");
        downloadFailures = getRuntimeContext().getMetricGroup().counter("mediaDownloadFailures");
    }

    @Override
    public void asyncInvoke(EmbedTask task, ResultFuture<FetchedTask> result) {
        String uri = task.media().uri();
        String scheme = uri.contains(":") ? uri.substring(0, uri.indexOf(':')).toLowerCase(Locale.ROOT) : "";
        if (!scheme.equals("http") && !scheme.equals("https")) {
            result.complete(List.of(new FetchedTask(task, null, null)));
            return;
        }
        CompletableFuture.runAsync(
                () -> {
                    FetchedTask fetched;
                    try {
                        fetched = new FetchedTask(task, fetcher.fetch(uri), null);
                        downloads.inc();
                    } catch (MediaException e) {
                        downloadFailures.inc();
                        fetched = new FetchedTask(
                                task,
                                null,
                                new OzError(
                                        e.ozErrorCode(), "media " + task.media().mediaId() + ": " + e.getMessage()));
                    } catch (RuntimeException e) {
                        downloadFailures.inc();
                        fetched = new FetchedTask(
                                task,
                                null,
                                new OzError(
                                        OzError.EXTERNAL_SERVICE,
                                        "media " + task.media().mediaId() + ": download failed: " + e));
                    }
                    result.complete(List.of(fetched));
                },
                executor);
    }

    @Override
    public void timeout(EmbedTask task, ResultFuture<FetchedTask> result) {
        downloadFailures.inc();
        result.complete(List.of(new FetchedTask(
                task,
                null,
                new OzError(OzError.EXTERNAL_SERVICE, "media " + task.media().mediaId() + ": download timed out"))));
    }

    @Override
    public void close() {
        if (executor != null) {
            executor.shutdownNow();
        }
        fetcher.close();
    }
}
