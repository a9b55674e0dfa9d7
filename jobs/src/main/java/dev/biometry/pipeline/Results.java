package dev.biometry.pipeline;

import dev.biometry.api.Analysis;
import dev.biometry.api.AnalysisParams;
import dev.biometry.api.Json;
import dev.biometry.api.MediaObject;
import dev.biometry.api.MediaRef;
import dev.biometry.api.OzError;
import dev.biometry.api.Timestamps;
import dev.biometry.match.BiometryAnalyzer;
import java.util.Arrays;
import java.util.List;

/** Builds the results-topic records of the pipeline's operators from analysis objects. */
final class Results {

    private Results() {}

    static ResultRecord record(Analysis analysis, String resolutionEndpoint) {
        return new ResultRecord(analysis.analyseId(), analysis.folderId(), analysis.state(),
                analysis.resolutionStatus(), resolutionEndpoint, Json.write(analysis));
    }

    static BiometryAnalyzer.AnalysisHeader header(AnalysisTicket t) {
        return header(t.analyseId(), t.folderId(), t.threshold(), t.thresholdMin(), t.metaDataJson(), t.timeCreatedMillis());
    }

    static BiometryAnalyzer.AnalysisHeader header(
            String analyseId, String folderId, Double threshold, Double thresholdMin, String metaDataJson, long createdMillis) {
        AnalysisParams params = threshold == null && thresholdMin == null ? null : new AnalysisParams(threshold, thresholdMin);
        return new BiometryAnalyzer.AnalysisHeader(analyseId, folderId, params, Json.parseOrNull(metaDataJson),
                Timestamps.epochSeconds(createdMillis));
    }

    static List<MediaObject> mediaObjects(MediaRef[] media) {
        return Arrays.stream(media).map(MediaObject::of).toList();
    }

    static ResultRecord failed(BiometryAnalyzer.AnalysisHeader header, List<MediaObject> media, OzError error,
            String resolutionEndpoint, long nowMillis) {
        return record(BiometryAnalyzer.failed(header, media, null, error, Timestamps.epochSeconds(nowMillis)),
                resolutionEndpoint);
    }
}
