package dev.biometry.match;

import dev.biometry.api.Analysis;
import dev.biometry.api.AnalysisHeader;
import dev.biometry.api.AnalysisParams;
import dev.biometry.api.MediaObject;
import dev.biometry.api.OzError;
import dev.biometry.api.ResultMedia;
import dev.biometry.api.ResultsData;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns the per-media outcomes of one BIOMETRY analysis into the final Oz analysis object: every pair compared,
 * min/max confidence overall and per media, resolution by threshold. A media without a usable face scores 0
 * against every other media (so the analysis is DECLINED); a media that could not be read FAILS the analysis, and
 * so does a {@code threshold_min} above the threshold (error 4).
 */
public final class BiometryAnalyzer {

    private final Calibration calibration;

    public BiometryAnalyzer(Calibration calibration) {
        this.calibration = calibration;
    }

    public Analysis finish(AnalysisHeader header, List<MediaOutcome> outcomes, double timeUpdated) {
        List<MediaObject> sourceMedia =
                outcomes.stream().map(MediaOutcome::media).toList();
        for (MediaOutcome o : outcomes) {
            if (o.fatal()) {
                return failed(header, sourceMedia, resultsMedia(outcomes, null), o.error(), timeUpdated);
            }
        }
        if (outcomes.size() < PairwiseMatch.MIN_MEDIA) {
            return failed(
                    header,
                    sourceMedia,
                    resultsMedia(outcomes, null),
                    new OzError(
                            OzError.INVALID_VALUE,
                            "biometry needs at least two eligible media, got " + outcomes.size()),
                    timeUpdated);
        }
        AnalysisParams params = header.params() == null ? new AnalysisParams(null, null) : header.params();
        OzError invalidParams =
                AnalysisParams.thresholdMinError(params.thresholdMin(), params.thresholdOrDefault(), false);
        if (invalidParams != null) {
            // Input the caller should have refused; a FAILED analysis, never an exception in the pipeline.
            return failed(header, sourceMedia, resultsMedia(outcomes, null), invalidParams, timeUpdated);
        }
        List<float[]> embeddings =
                outcomes.stream().map(MediaOutcome::embedding).toList();
        PairwiseMatch match = PairwiseMatch.of(embeddings, calibration);
        boolean everyMediaHasFace = outcomes.stream().allMatch(o -> o.embedding() != null);
        Resolution resolution = everyMediaHasFace
                ? Resolution.decide(match.minConfidence(), params.thresholdOrDefault(), params.thresholdMin())
                : Resolution.DECLINED;
        return new Analysis(
                header.analyseId(),
                header.folderId(),
                Analysis.TYPE_BIOMETRY,
                Analysis.STATE_FINISHED,
                resolution.name(),
                resolution.name(),
                header.timeCreated(),
                timeUpdated,
                header.params(),
                sourceMedia,
                ResultsData.analysisLevel(match.minConfidence(), match.maxConfidence()),
                resultsMedia(outcomes, match),
                null,
                null,
                header.metaData());
    }

    /** The record published when an analysis starts: state and resolution PROCESSING, no results yet. */
    public static Analysis processing(AnalysisHeader header, List<MediaObject> sourceMedia, double timeUpdated) {
        return new Analysis(
                header.analyseId(),
                header.folderId(),
                Analysis.TYPE_BIOMETRY,
                Analysis.STATE_PROCESSING,
                Analysis.STATE_PROCESSING,
                Analysis.STATE_PROCESSING,
                header.timeCreated(),
                timeUpdated,
                header.params(),
                sourceMedia,
                null,
                null,
                null,
                null,
                header.metaData());
    }

    /** A FAILED analysis: a system-side or input error, never a verdict. */
    public static Analysis failed(
            AnalysisHeader header,
            List<MediaObject> sourceMedia,
            List<ResultMedia> resultsMedia,
            OzError error,
            double timeUpdated) {
        return new Analysis(
                header.analyseId(),
                header.folderId(),
                Analysis.TYPE_BIOMETRY,
                Analysis.STATE_FAILED,
                Analysis.STATE_FAILED,
                Analysis.STATE_FAILED,
                header.timeCreated(),
                timeUpdated,
                header.params(),
                sourceMedia,
                null,
                resultsMedia,
                error.code(),
                error.message(),
                header.metaData());
    }

    private static List<ResultMedia> resultsMedia(List<MediaOutcome> outcomes, PairwiseMatch match) {
        List<ResultMedia> out = new ArrayList<>(outcomes.size());
        for (int i = 0; i < outcomes.size(); i++) {
            MediaOutcome o = outcomes.get(i);
            ResultsData data = match == null
                    ? ResultsData.forMedia(null, null, o.facesDetected(), o.face(), o.processingMillis())
                    : ResultsData.forMedia(
                            match.minConfidence(i),
                            match.maxConfidence(i),
                            o.facesDetected(),
                            o.face(),
                            o.processingMillis());
            out.add(ResultMedia.of(o.media().mediaId(), o.media().mediaType(), data, o.error()));
        }
        return out;
    }
}
