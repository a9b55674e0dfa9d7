package dev.biometry.media;

import static org.bytedeco.opencv.global.opencv_core.CV_8UC1;
import static org.bytedeco.opencv.global.opencv_imgcodecs.IMREAD_COLOR;
import static org.bytedeco.opencv.global.opencv_imgcodecs.IMREAD_REDUCED_COLOR_2;
import static org.bytedeco.opencv.global.opencv_imgcodecs.IMREAD_REDUCED_COLOR_4;
import static org.bytedeco.opencv.global.opencv_imgcodecs.IMREAD_REDUCED_COLOR_8;
import static org.bytedeco.opencv.global.opencv_imgcodecs.imdecode;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.opencv.opencv_core.Mat;

/**
 * Decodes JPEG and PNG bytes into an 8-bit BGR {@link Mat}. OpenCV's {@code IMREAD_COLOR} (and its reduced
 * variants) apply the EXIF orientation tag, so the returned image is upright as a viewer would show it. Large JPEGs
 * can be decoded at 1/2, 1/4 or 1/8 of their size: libjpeg scales in the inverse DCT, which costs a fraction of a
 * full decode.
 */
public final class ImageDecoder {

    private ImageDecoder() {}

    /**
     * Decodes {@code bytes}; the caller owns (and must close) the returned Mat.
     *
     * @throws MediaException {@link MediaException.Kind#EMPTY} for zero bytes, {@link MediaException.Kind#UNDECODABLE}
     *     for anything OpenCV cannot decode
     */
    public static Mat decode(byte[] bytes, String name) throws MediaException {
        return decode(bytes, name, 1);
    }

    /**
     * The largest reduction (8, 4, 2, else 1) at which a JPEG's shorter side is still at least {@code minSide}
     * pixels; 1 for PNG (whose decoder cannot scale) and for headers that cannot be read.
     */
    public static int jpegReduction(byte[] bytes, int minSide) {
        if (bytes == null || bytes.length < 2 || (bytes[0] & 0xFF) != 0xFF || (bytes[1] & 0xFF) != 0xD8) {
            return 1;
        }
        long shorter = ImageHeaderCheck.dimensions(bytes)
                .map(d -> Math.min(d.width(), d.height()))
                .orElse(0L);
        for (int reduction : new int[] {8, 4, 2}) {
            if (shorter / reduction >= minSide) {
                return reduction;
            }
        }
        return 1;
    }

    /**
     * Decodes {@code bytes} at 1/{@code reduction} of their size (1, 2, 4 or 8); the caller owns the returned Mat.
     *
     * @throws MediaException as {@link #decode(byte[], String)}
     */
    public static Mat decode(byte[] bytes, String name, int reduction) throws MediaException {
        int flags = switch (reduction) {
            case 1 -> IMREAD_COLOR;
            case 2 -> IMREAD_REDUCED_COLOR_2;
            case 4 -> IMREAD_REDUCED_COLOR_4;
            case 8 -> IMREAD_REDUCED_COLOR_8;
            default -> throw new IllegalArgumentException("reduction must be 1, 2, 4 or 8: " + reduction);
        };
        if (bytes == null || bytes.length == 0) {
            throw new MediaException(MediaException.Kind.EMPTY, name + ": empty image (0 bytes)");
        }
        try (BytePointer data = new BytePointer(bytes);
                Mat encoded = new Mat(1, bytes.length, CV_8UC1, data)) {
            Mat image;
            try {
                image = imdecode(encoded, flags);
            } catch (RuntimeException e) {
                throw new MediaException(
                        MediaException.Kind.UNDECODABLE, name + ": not a decodable image (" + e.getMessage() + ")", e);
            }
            if (image == null || image.empty()) {
                if (image != null) {
                    image.close();
                }
                throw new MediaException(
                        MediaException.Kind.UNDECODABLE,
                        name + ": not a decodable JPEG or PNG image (" + bytes.length + " bytes)");
            }
            return image;
        }
    }

    /**
     * Width and height of the full-size, upright image that {@code reduced} was decoded from at 1/{@code reduction}
     * (the decoder rounds odd sides up, and the EXIF orientation may have swapped them).
     */
    public static int[] fullSize(byte[] bytes, Mat reduced, int reduction) {
        var declared = ImageHeaderCheck.dimensions(bytes);
        if (declared.isPresent()) {
            int w = (int) declared.get().width();
            int h = (int) declared.get().height();
            int[][] candidates = {{w, h}, {h, w}};
            for (int[] c : candidates) {
                if (ceilDiv(c[0], reduction) == reduced.cols() && ceilDiv(c[1], reduction) == reduced.rows()) {
                    return c;
                }
            }
        }
        return new int[] {reduced.cols() * reduction, reduced.rows() * reduction};
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
