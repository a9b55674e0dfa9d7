package dev.biometry.pipeline;

import dev.biometry.api.MediaRef;

/** A media known to a folder, with its arrival number so "all media of the folder" keeps arrival order. */
public record FolderMedia(MediaRef media, long sequence) {}
