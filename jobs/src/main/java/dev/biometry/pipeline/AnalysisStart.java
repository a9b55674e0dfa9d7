package dev.biometry.pipeline;

import dev.biometry.api.MediaRef;
import dev.biometry.api.SourceRef;

/**
 * What the folder join decided for one requested analysis, on its way to {@link ClaimFunction} (keyed by analyse
 * id): either it can start (its PROCESSING {@code record} and the eligible {@code media} to embed), or it could not
 * (a FAILED {@code record}, no media).
 *
 * @param source the requests-topic record of the analysis, for a dead letter; null when unknown
 */
public record AnalysisStart(AnalysisTicket ticket, MediaRef[] media, ResultRecord record, SourceRef source) {}
