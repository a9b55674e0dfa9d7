package dev.biometry.api;

/** The Oz media kinds (spec §1.5) and the key that names a media of that kind in {@code results_media}. */
public enum MediaType {
    IMAGE_FOLDER("source_image_id"),
    VIDEO_FOLDER("source_video_id"),
    SHOTS_SET("source_shots_set_id");

    private final String resultsMediaKey;

    MediaType(String resultsMediaKey) {
        this.resultsMediaKey = resultsMediaKey;
    }

    /** {@code source_image_id}, {@code source_video_id} or {@code source_shots_set_id}. */
    public String resultsMediaKey() {
        return resultsMediaKey;
    }
}
