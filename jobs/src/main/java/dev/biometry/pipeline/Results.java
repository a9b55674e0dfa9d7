package dev.biometry.pipeline;

import dev.biometry.api.Analysis;
import dev.biometry.api.AnalysisHeader;
import dev.biometry.api.Json;
import dev.biometry.api.MediaObject;
import dev.biometry.api.OzError;
import dev.biometry.api.Timestamps;
import dev.biometry.match.BiometryAnalyzer;
import java.util.List;

/** Wraps the analysis objects of the core ({@link BiometryAnalyzer}) into results-topic records. */
final class Results {

    private Results() {}

    static ResultRecord record(Analysis analysis, String resolutionEndpoint) {
        return new ResultRecord(
                analysis.analyseId(),
                analysis.folderId(),
                analysis.state(),
                analysis.resolutionStatus(),
                resolutionEndpoint,
                Json.write(analysis));
    }

    static ResultRecord failed(
            AnalysisHeader header, List<MediaObject> media, OzError error, String resolutionEndpoint, long nowMillis) {
        return record(
                BiometryAnalyzer.failed(header, media, null, error, Timestamps.epochSeconds(nowMillis)),
                resolutionEndpoint);
    }
}
