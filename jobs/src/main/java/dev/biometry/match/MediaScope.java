package dev.biometry.match;

import dev.biometry.api.AnalysisRequest;
import dev.biometry.api.Excerpt;
import dev.biometry.api.MediaRef;
import dev.biometry.api.OzError;
import java.util.ArrayList;
import java.util.List;

/**
 * Which media of a folder a BIOMETRY analysis compares, and whether it can start: the media named in
 * {@code source_media} (in that order), else every media of the folder in arrival order; of those, all but the ones
 * tagged {@code photo_id_back} are eligible; an analysis needs at least {@link PairwiseMatch#MIN_MEDIA} and at most
 * {@code maxMediaPerAnalysis} eligible media.
 */
public final class MediaScope {

    private MediaScope() {}

    /** A folder's media as the caller keeps them (reads of Flink state may throw). */
    public interface Folder {
        /** The media with this id, or null when the folder does not know it. */
        MediaRef get(String mediaId) throws Exception;

        /** Every media of the folder, in the order they arrived. */
        List<MediaRef> inArrivalOrder() throws Exception;
    }

    /** The media the analysis covers that the folder knows. */
    public static List<MediaRef> of(AnalysisRequest request, Folder folder) throws Exception {
        if (request.sourceMedia() == null) {
            return folder.inArrivalOrder();
        }
        List<MediaRef> scope = new ArrayList<>();
        for (String id : request.sourceMedia()) {
            MediaRef media = folder.get(id);
            if (media != null) {
                scope.add(media);
            }
        }
        return scope;
    }

    /** The ids named in {@code source_media} that the folder does not know (yet). */
    public static List<String> missing(AnalysisRequest request, Folder folder) throws Exception {
        List<String> missing = new ArrayList<>();
        if (request.sourceMedia() != null) {
            for (String id : request.sourceMedia()) {
                if (folder.get(id) == null) {
                    missing.add(id);
                }
            }
        }
        return missing;
    }

    /** The media biometry compares: all but those tagged photo_id_back. */
    public static List<MediaRef> eligible(List<MediaRef> scope) {
        return scope.stream().filter(m -> !m.hasTag(MediaRef.TAG_PHOTO_ID_BACK)).toList();
    }

    /** At most the first {@code max} media, for the source_media of a record that lists them. */
    public static List<MediaRef> bounded(List<MediaRef> media, int max) {
        return media.size() <= max ? media : media.subList(0, max);
    }

    /**
     * Error 4 when the analysis cannot start on {@code eligible} (the eligible media of {@code scope}): fewer than
     * {@link PairwiseMatch#MIN_MEDIA} or more than {@code maxMediaPerAnalysis}; null when it can.
     */
    public static OzError check(
            AnalysisRequest request, List<MediaRef> scope, List<MediaRef> eligible, int maxMediaPerAnalysis) {
        if (eligible.size() < PairwiseMatch.MIN_MEDIA) {
            int ignored = scope.size() - eligible.size();
            return new OzError(
                    OzError.INVALID_VALUE,
                    "biometry needs at least two eligible media; folder "
                            + Excerpt.of(request.folderId()) + " has " + eligible.size()
                            + (request.sourceMedia() == null ? "" : " of those named in source_media")
                            + (ignored > 0 ? " (" + ignored + " tagged photo_id_back ignored)" : ""));
        }
        if (eligible.size() > maxMediaPerAnalysis) {
            return new OzError(
                    OzError.INVALID_VALUE,
                    "biometry compares at most " + maxMediaPerAnalysis
                            + " media per analysis; folder " + Excerpt.of(request.folderId()) + " has "
                            + eligible.size()
                            + " eligible media (name the ones to compare in source_media)");
        }
        return null;
    }
}
