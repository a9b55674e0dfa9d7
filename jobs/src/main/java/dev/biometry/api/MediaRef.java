package dev.biometry.api;

/**
 * A media reference as received on the media topic or inline in a request: which folder it belongs to, what it
 * is and where to read it. Arrays and a JSON string (not lists or trees) so Flink serialises it as a POJO.
 *
 * @param mediaType IMAGE_FOLDER, VIDEO_FOLDER or SHOTS_SET
 * @param tags Oz media tags, e.g. {@code photo_selfie}, {@code photo_id_front}; never null (may be empty)
 * @param uri where the bytes are ({@code file://} under a configured media root)
 * @param originalName the client's file name, or null
 * @param metaDataJson the media's {@code meta_data} object as JSON text, or null
 */
public record MediaRef(
        String folderId,
        String mediaId,
        MediaType mediaType,
        String[] tags,
        String uri,
        String originalName,
        String metaDataJson) {

    public static final String TAG_PHOTO_ID_BACK = "photo_id_back";
    public static final String TAG_PHOTO_ID_FRONT = "photo_id_front";

    public boolean hasTag(String tag) {
        for (String t : tags) {
            if (t.equals(tag)) {
                return true;
            }
        }
        return false;
    }
}
