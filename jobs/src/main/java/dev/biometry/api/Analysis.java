package dev.biometry.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import java.util.List;

/** An Oz BIOMETRY analysis object as emitted on the results topic, by webhooks and by {@code verify} (spec §2.5). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Analysis(
        @JsonProperty("analyse_id") String analyseId,
        @JsonProperty("folder_id") String folderId,
        @JsonProperty("type") String type,
        @JsonProperty("state") String state,
        @JsonProperty("resolution_status") String resolutionStatus,
        @JsonProperty("resolution") String resolution,

        @JsonProperty("time_created") @JsonSerialize(using = EpochSecondsSerializer.class)
        double timeCreated,

        @JsonProperty("time_updated") @JsonSerialize(using = EpochSecondsSerializer.class)
        double timeUpdated,

        @JsonProperty("params") AnalysisParams params,
        @JsonProperty("source_media") List<MediaObject> sourceMedia,
        @JsonProperty("results_data") ResultsData resultsData,
        @JsonProperty("results_media") List<ResultMedia> resultsMedia,
        @JsonProperty("error_code") Integer errorCode,
        @JsonProperty("error_message") String errorMessage,
        @JsonProperty("meta_data") JsonNode metaData) {

    public static final String TYPE_BIOMETRY = "BIOMETRY";
    public static final String STATE_PROCESSING = "PROCESSING";
    public static final String STATE_FINISHED = "FINISHED";
    public static final String STATE_FAILED = "FAILED";
}
