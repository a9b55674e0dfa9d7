package dev.biometry.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.biometry.api.Json;
import dev.biometry.api.MediaType;
import java.math.BigDecimal;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Renders stored rows as Oz JSON objects (spec §1): folders, media (with an {@code original_url} served by this
 * API) and analyses (the job's latest record over the object made at creation, with {@code source_media} as full
 * media objects). Timestamps are epoch seconds with a millisecond fraction, as the job writes them.
 */
final class Views {

    private final java.util.function.Supplier<String> publicUrl;

    Views(java.util.function.Supplier<String> publicUrl) {
        this.publicUrl = publicUrl;
    }

    static BigDecimal seconds(long millis) {
        return BigDecimal.valueOf(millis).movePointLeft(3);
    }

    ObjectNode media(Store.Media m, boolean withUrl) {
        ObjectNode o = Json.mapper().createObjectNode();
        o.put("media_id", m.mediaId());
        o.put("folder_id", m.folderId());
        o.put("media_type", m.mediaType());
        o.set("tags", Json.parseOrNull(m.tags()));
        o.put("original_name", m.originalName());
        if (withUrl) {
            String url = publicUrl.get() + "/api/media/" + m.mediaId() + "/file";
            o.put("original_url", url);
            if (MediaType.VIDEO_FOLDER.name().equals(m.mediaType())) {
                o.put("video_url", url);
            }
        }
        o.set("meta_data", metaData(m.metaData()));
        o.putObject("technical_meta_data").put("size_bytes", m.sizeBytes());
        o.put("time_created", seconds(m.timeCreated()));
        o.put("time_updated", seconds(m.timeCreated()));
        return o;
    }

    /**
     * An analysis: the stored result (or the object made at creation) with the API's ids, times and full
     * {@code source_media}; {@code finalRecord}, when given, is a final record not yet in the store.
     */
    ObjectNode analysis(Store.Analysis a, JsonNode finalRecord, Map<String, ObjectNode> mediaById) {
        JsonNode created = Json.parseOrNull(a.createdJson());
        JsonNode base =
                finalRecord != null ? finalRecord : a.resultJson() != null ? Json.parseOrNull(a.resultJson()) : created;
        ObjectNode o = ((ObjectNode) base).deepCopy();
        o.put("analyse_id", a.analyseId());
        o.put("folder_id", a.folderId());
        o.put("time_created", seconds(a.timeCreated()));
        if (finalRecord == null && a.resultJson() == null) {
            o.put("time_updated", seconds(a.timeUpdated()));
        }
        if (!o.hasNonNull("meta_data")) {
            o.putObject("meta_data");
        }
        o.putObject("technical_meta_data");
        ArrayNode source = Json.mapper().createArrayNode();
        for (JsonNode s : created.path("source_media")) {
            ObjectNode full = mediaById.get(s.path("media_id").asText());
            source.add(full != null ? full : s);
        }
        o.set("source_media", source);
        return o;
    }

    ObjectNode folder(Store.Folder f, List<Store.Media> media, List<ObjectNode> analyses) {
        ObjectNode o = Json.mapper().createObjectNode();
        o.put("folder_id", f.folderId());
        o.put("company_id", f.companyId());
        o.put("user_id", f.userId());
        o.put("resolution_status", f.resolutionStatus());
        o.put("time_created", seconds(f.timeCreated()));
        o.put("time_updated", seconds(f.timeUpdated()));
        o.set("meta_data", metaData(f.metaData()));
        o.putObject("technical_meta_data");
        ArrayNode m = o.putArray("media");
        media.forEach(x -> m.add(media(x, true)));
        if (analyses != null) {
            ArrayNode a = o.putArray("analyses");
            analyses.forEach(a::add);
        }
        return o;
    }

    Map<String, ObjectNode> mediaById(List<Store.Media> media) {
        Map<String, ObjectNode> out = new HashMap<>();
        media.forEach(m -> out.put(m.mediaId(), media(m, true)));
        return out;
    }

    private static JsonNode metaData(String json) {
        JsonNode node = Json.parseOrNull(json);
        return node == null ? Json.mapper().createObjectNode() : node;
    }
}
