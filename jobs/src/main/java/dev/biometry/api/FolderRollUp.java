package dev.biometry.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A folder as the Oz API shows it, rolled up from its media and its analyses. Folder {@code resolution_status}:
 * INITIAL without analyses, PROCESSING while any runs, else FAILED if any failed, else FINISHED (the job's folder
 * records and the HTTP API both ask {@link #status}).
 *
 * <p>The object stays bounded: it lists at most {@code maxListed} media (by id) and {@code maxListed} analyses
 * (running ones first, then the most recently updated, listed in id order), and gives the totals as
 * {@code media_count} and {@code analyses_count}.
 */
public final class FolderRollUp {

    private FolderRollUp() {}

    /** A rendered folder: its roll-up status and its JSON object. */
    public record Folder(String resolutionStatus, ObjectNode json) {}

    /** The folder's {@code resolution_status} from the {@code state} of each of its analyses. */
    public static String status(Iterable<String> analysisStates) {
        boolean any = false;
        boolean failed = false;
        for (String state : analysisStates) {
            any = true;
            if (Analysis.STATE_PROCESSING.equals(state)) {
                return Analysis.STATE_PROCESSING;
            }
            failed |= Analysis.STATE_FAILED.equals(state);
        }
        return !any ? "INITIAL" : failed ? Analysis.STATE_FAILED : Analysis.STATE_FINISHED;
    }

    /**
     * The folder object.
     *
     * @param mediaTypes the folder's media: id to media type name
     * @param analyses the folder's analyses by analyse id
     */
    public static Folder render(
            String folderId,
            long createdMillis,
            long updatedMillis,
            Map<String, String> mediaTypes,
            Map<String, AnalysisStatus> analyses,
            int maxListed) {
        SortedMap<String, AnalysisStatus> all = new TreeMap<>(analyses);
        String rollUp = status(all.values().stream().map(AnalysisStatus::state).toList());
        SortedMap<String, AnalysisStatus> listed = all;
        if (all.size() > maxListed) {
            // Running analyses first, then the most recently updated; listed in id order.
            List<Map.Entry<String, AnalysisStatus>> ranked = new ArrayList<>(all.entrySet());
            ranked.sort(Comparator.comparing((Map.Entry<String, AnalysisStatus> e) ->
                            !Analysis.STATE_PROCESSING.equals(e.getValue().state()))
                    .thenComparing(e -> -e.getValue().updatedMillis()));
            listed = new TreeMap<>();
            for (Map.Entry<String, AnalysisStatus> e : ranked.subList(0, maxListed)) {
                listed.put(e.getKey(), e.getValue());
            }
        }
        ObjectNode folder = Json.mapper().createObjectNode();
        folder.put("folder_id", folderId);
        folder.put("resolution_status", rollUp);
        folder.put("time_created", seconds(createdMillis));
        folder.put("time_updated", seconds(updatedMillis));
        ArrayNode media = folder.putArray("media");
        SortedMap<String, String> allMedia = new TreeMap<>(mediaTypes);
        for (Map.Entry<String, String> e : allMedia.entrySet()) {
            if (media.size() == maxListed) {
                break;
            }
            media.addObject().put("media_id", e.getKey()).put("media_type", e.getValue());
        }
        folder.put("media_count", allMedia.size());
        folder.put("analyses_count", all.size());
        ArrayNode list = folder.putArray("analyses");
        for (Map.Entry<String, AnalysisStatus> e : listed.entrySet()) {
            list.addObject()
                    .put("analyse_id", e.getKey())
                    .put("type", Analysis.TYPE_BIOMETRY)
                    .put("state", e.getValue().state())
                    .put("resolution_status", e.getValue().resolutionStatus())
                    .put("resolution", e.getValue().resolutionStatus());
        }
        return new Folder(rollUp, folder);
    }

    /** Epoch seconds with the milliseconds as an exact decimal fraction. */
    private static BigDecimal seconds(long millis) {
        return BigDecimal.valueOf(millis, 3);
    }
}
