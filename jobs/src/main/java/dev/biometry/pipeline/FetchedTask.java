package dev.biometry.pipeline;

import dev.biometry.api.OzError;

/**
 * An embedding task after the download step: the bytes of an http(s) media, or why the download failed; for other
 * URIs (local files) both are null and the embedding operator reads the file itself.
 */
public record FetchedTask(EmbedTask task, byte[] bytes, OzError error) {

    /** A task with the download error given as code and message (both null when there is none). */
    public FetchedTask(EmbedTask task, byte[] bytes, Integer errorCode, String errorMessage) {
        this(task, bytes, errorCode == null ? null : new OzError(errorCode, errorMessage));
    }

    public boolean failed() {
        return error != null;
    }
}
