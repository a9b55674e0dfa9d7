package dev.biometry.media;

/** What a media's leading bytes say it is, whatever its name or declared content type. */
public enum ContentKind {
    /** JPEG image ({@code FF D8 FF}). */
    JPEG(true, false, true),
    /** PNG image. */
    PNG(true, false, true),
    /** GIF image: recognized, but not supported. */
    GIF(true, false, false),
    /** WebP image ({@code RIFF....WEBP}): recognized, but not supported. */
    WEBP(true, false, false),
    /** HEIF, HEIC or AVIF image (an ISO media file whose major brand is an image brand): not supported. */
    HEIF(true, false, false),
    /** MP4, MOV, M4V or 3GP video: an ISO base media file ({@code ftyp} box at offset 4) or a legacy QuickTime file. */
    MP4(false, true, false),
    /** WebM or Matroska video (EBML header {@code 1A 45 DF A3}). */
    WEBM(false, true, false),
    /** AVI video ({@code RIFF....AVI }). */
    AVI(false, true, false),
    /** ZIP archive ({@code PK 03 04}, or {@code PK 05 06} when empty). */
    ZIP(false, false, false),
    /** Nothing recognized, including empty input. */
    UNKNOWN(false, false, false);

    private final boolean image;
    private final boolean video;
    private final boolean supportedImage;

    ContentKind(boolean image, boolean video, boolean supportedImage) {
        this.image = image;
        this.video = video;
        this.supportedImage = supportedImage;
    }

    public boolean isImage() {
        return image;
    }

    public boolean isVideo() {
        return video;
    }

    /** An image kind that {@link ImageDecoder} decodes: JPEG and PNG. */
    public boolean isSupportedImage() {
        return supportedImage;
    }
}
