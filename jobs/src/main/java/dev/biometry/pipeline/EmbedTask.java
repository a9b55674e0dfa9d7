package dev.biometry.pipeline;

import dev.biometry.api.MediaRef;

/** Embed media number {@code index} of an analysis (keyed by media id downstream). */
public record EmbedTask(AnalysisTicket ticket, int index, MediaRef media) {}
