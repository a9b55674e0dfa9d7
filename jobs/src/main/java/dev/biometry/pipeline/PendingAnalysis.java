package dev.biometry.pipeline;

import dev.biometry.api.AnalysisRequest;

/** An analysis waiting for media named in its {@code source_media}, until {@code deadlineMillis} (processing time). */
public record PendingAnalysis(AnalysisRequest request, long deadlineMillis) {}
