package dev.biometry.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * One element of {@code results_media}: which media ({@code source_media_id}, plus {@code source_image_id},
 * {@code source_video_id} or {@code source_shots_set_id} by kind), its own results, and an error when that media
 * could not be used.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ResultMedia(
        @JsonProperty("source_media_id") String sourceMediaId,
        @JsonProperty("source_image_id") String sourceImageId,
        @JsonProperty("source_video_id") String sourceVideoId,
        @JsonProperty("source_shots_set_id") String sourceShotsSetId,
        @JsonProperty("results_data") ResultsData resultsData,
        @JsonProperty("error") OzError error) {

    public static ResultMedia of(String mediaId, MediaType type, ResultsData data, OzError error) {
        return new ResultMedia(
                mediaId,
                type == MediaType.IMAGE_FOLDER ? mediaId : null,
                type == MediaType.VIDEO_FOLDER ? mediaId : null,
                type == MediaType.SHOTS_SET ? mediaId : null,
                data,
                error);
    }
}
