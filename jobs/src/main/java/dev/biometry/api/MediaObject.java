package dev.biometry.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/** A media as the Oz API shows it inside an analysis' {@code source_media}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record MediaObject(
        @JsonProperty("media_id") String mediaId,
        @JsonProperty("folder_id") String folderId,
        @JsonProperty("media_type") MediaType mediaType,
        @JsonProperty("tags") List<String> tags,
        @JsonProperty("original_name") String originalName,
        @JsonProperty("meta_data") JsonNode metaData) {

    /** The Oz view of a received media reference. */
    public static MediaObject of(MediaRef ref) {
        return new MediaObject(
                ref.mediaId(),
                ref.folderId(),
                ref.mediaType(),
                List.of(ref.tags()),
                ref.originalName(),
                Json.parseOrNull(ref.metaDataJson()));
    }
}
