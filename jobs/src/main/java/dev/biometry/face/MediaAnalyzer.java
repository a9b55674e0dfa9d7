package dev.biometry.face;

import ai.onnxruntime.OrtException;
import dev.biometry.api.MediaType;
import dev.biometry.api.OzError;
import dev.biometry.match.FaceOutcome;
import dev.biometry.media.ContentKind;
import dev.biometry.media.ImageDecoder;
import dev.biometry.media.ImageHeaderCheck;
import dev.biometry.media.MediaException;
import dev.biometry.media.MediaSniffer;
import dev.biometry.media.SampledFrame;
import dev.biometry.media.SampledFrames;
import dev.biometry.media.ShotsSetImage;
import dev.biometry.media.ShotsSetReader;
import dev.biometry.media.VideoFrames;
import dev.biometry.media.VideoLimits;
import dev.biometry.media.ZipLimits;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.opencv.opencv_core.Mat;

/**
 * Finds the face a media is matched by, whatever its kind: a photo (JPEG/PNG), a video (MP4, MOV, WebM, AVI) or a
 * shots set (ZIP of JPEG/PNG frames). The content type comes from the bytes (magic numbers), never from names;
 * image sizes are checked from the header before decoding; video and ZIP limits apply before frames are decoded.
 * Video and shots-set frames share one per-frame pixel limit ({@link VideoLimits#maxFramePixels()}), and shots-set
 * frames are decoded one at a time, so the native memory one media takes is bounded by that limit, not by the
 * number of frames times the photo limit.
 */
public final class MediaAnalyzer implements MediaFaceSearch {

    /**
     * Limits and frame selection.
     *
     * @param maxPixels largest image accepted, width x height from its header (default 40 MP)
     * @param video video limits; their {@link VideoLimits#maxFramePixels()} also bounds every shots-set frame
     * @param framesToSample frames taken evenly from a video or shots set (default 10)
     * @param bestFrames frames whose embeddings are averaged into the template (default 3)
     */
    public record Limits(long maxPixels, VideoLimits video, ZipLimits zip, int framesToSample, int bestFrames)
            implements Serializable {
        private static final long serialVersionUID = 1L;
        public static final Limits DEFAULTS = new Limits(40_000_000L, VideoLimits.DEFAULTS, ZipLimits.DEFAULTS, 10, 3);
    }

    private final MediaFaces faces;
    private final Limits limits;

    public MediaAnalyzer(FaceEngine engine, FacePolicy policy, Limits limits) {
        this.faces = new MediaFaces(engine, policy);
        this.limits = limits;
    }

    /**
     * The face of a media.
     *
     * @param idDocument search harder for a small portrait (media tagged {@code photo_id_front})
     * @throws MediaException when the content is not of the declared kind, too large, or does not decode
     */
    @Override
    public MediaFaces.Result analyze(byte[] bytes, MediaType type, boolean idDocument, String name)
            throws MediaException, OrtException {
        if (bytes.length == 0) {
            throw new MediaException(MediaException.Kind.EMPTY, name + ": empty media (0 bytes)");
        }
        ContentKind kind = MediaSniffer.sniff(bytes);
        return switch (type) {
            case IMAGE_FOLDER -> photo(bytes, kind, idDocument, name);
            case VIDEO_FOLDER -> video(bytes, kind, name);
            case SHOTS_SET -> shotsSet(bytes, kind, name);
        };
    }

    /** The outcome of a face search: the template, or why there is none (error 4, {@code name: problem}). */
    public static FaceOutcome outcome(MediaFaces.Result result, String name) {
        if (result.template() == null) {
            return FaceOutcome.unusable(result.facesDetected(), result.report(), name + ": " + result.problem());
        }
        return FaceOutcome.matched(result.facesDetected(), result.template(), result.report());
    }

    /** The Oz error of a media that cannot be read or decoded, its message starting with {@code name}. */
    public static OzError error(MediaException e, String name) {
        String message = e.getMessage();
        return new OzError(e.ozErrorCode(), message.startsWith(name) ? message : name + ": " + message);
    }

    private MediaFaces.Result photo(byte[] bytes, ContentKind kind, boolean idDocument, String name)
            throws MediaException, OrtException {
        if (!kind.isSupportedImage()) {
            throw new MediaException(
                    MediaException.Kind.UNDECODABLE,
                    name + ": content is " + describe(kind) + ", not a JPEG or PNG image");
        }
        ImageHeaderCheck.checkPixels(bytes, limits.maxPixels());
        // A document portrait is small: its search (tiles) needs every pixel, so documents are decoded at full size.
        int reduction = idDocument ? 1 : ImageDecoder.jpegReduction(bytes, FaceEngine.REDUCED_DECODE_MIN_SIDE);
        try (Mat image = ImageDecoder.decode(bytes, name, reduction)) {
            return faces.photo(image, idDocument, reduction, finer -> ImageDecoder.decode(bytes, name, finer));
        }
    }

    private MediaFaces.Result video(byte[] bytes, ContentKind kind, String name) throws MediaException, OrtException {
        if (!kind.isVideo()) {
            throw new MediaException(
                    MediaException.Kind.UNDECODABLE,
                    name + ": content is " + describe(kind) + ", not an MP4, MOV, WebM or AVI video");
        }
        try (SampledFrames sampled = new VideoFrames(limits.video()).sample(bytes, name, limits.framesToSample())) {
            List<MediaFaces.Frame> frames = new ArrayList<>();
            for (SampledFrame f : sampled.frames()) {
                frames.add(new MediaFaces.Frame(f.index(), f.bgr()));
            }
            return faces.frames(frames, limits.bestFrames());
        }
    }

    /**
     * A shots set: the frames to sample are chosen and their headers checked (type, the photo pixel limit and the
     * per-frame limit {@link VideoLimits#maxFramePixels()}, as for video frames) before any is decoded; then they are
     * decoded one at a time as {@link MediaFaces} asks for them, so at most one decoded frame is held at once.
     */
    private MediaFaces.Result shotsSet(byte[] bytes, ContentKind kind, String name)
            throws MediaException, OrtException {
        if (kind != ContentKind.ZIP) {
            throw new MediaException(
                    MediaException.Kind.UNDECODABLE,
                    name + ": content is " + describe(kind) + ", not a ZIP of JPEG/PNG frames");
        }
        List<ShotsSetImage> images = new ShotsSetReader(limits.zip()).read(bytes, name);
        int count = Math.min(limits.framesToSample(), images.size());
        int[] picked = new int[count];
        for (int k = 0; k < count; k++) {
            picked[k] = count == 1 ? 0 : (int) Math.round(k * (images.size() - 1) / (double) (count - 1));
            ShotsSetImage image = images.get(picked[k]);
            String frameName = frameName(name, image);
            if (!MediaSniffer.sniff(image.bytes()).isSupportedImage()) {
                throw new MediaException(MediaException.Kind.UNDECODABLE, frameName + ": not a JPEG or PNG image");
            }
            ImageHeaderCheck.checkPixels(image.bytes(), limits.maxPixels());
            checkFramePixels(ImageHeaderCheck.pixels(image.bytes()), frameName, image);
        }
        return faces.frames(
                new MediaFaces.FrameSource() {
                    @Override
                    public int size() {
                        return count;
                    }

                    @Override
                    public MediaFaces.Frame open(int k) throws MediaException {
                        ShotsSetImage image = images.get(picked[k]);
                        Mat decoded = ImageDecoder.decode(image.bytes(), frameName(name, image));
                        try {
                            // The header said so already; a decoder that disagrees with it is held to the same limit.
                            checkFramePixels((long) decoded.cols() * decoded.rows(), frameName(name, image), image);
                        } catch (MediaException e) {
                            decoded.close();
                            throw e;
                        }
                        return new MediaFaces.Frame(picked[k], decoded);
                    }
                },
                limits.bestFrames());
    }

    private static String frameName(String name, ShotsSetImage image) {
        return name + " frame " + image.name();
    }

    private void checkFramePixels(long pixels, String frameName, ShotsSetImage image) throws MediaException {
        long limit = limits.video().maxFramePixels();
        if (pixels > limit) {
            var size = ImageHeaderCheck.dimensions(image.bytes());
            throw new MediaException(
                    MediaException.Kind.TOO_LARGE,
                    frameName + ": shots-set frames are limited to "
                            + limit + " pixels like video frames, this one is "
                            + size.map(d -> d.width() + "x" + d.height() + " (" + pixels + " pixels)")
                                    .orElse(pixels + " pixels"));
        }
    }

    private static String describe(ContentKind kind) {
        return kind == ContentKind.UNKNOWN ? "of an unknown type" : kind.name();
    }
}
