package dev.biometry.pipeline;

/**
 * An embedding task after the download step: the bytes of an http(s) media, or why the download failed; for other
 * URIs (local files) both are null and the embedding operator reads the file itself.
 */
public record FetchedTask(EmbedTask task, byte[] bytes, Integer errorCode, String errorMessage) {

    public boolean failed() {
        return errorCode != null;
    }
}
