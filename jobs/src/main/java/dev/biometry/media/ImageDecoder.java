package dev.biometry.media;

import static org.bytedeco.opencv.global.opencv_core.CV_8UC1;
import static org.bytedeco.opencv.global.opencv_imgcodecs.IMREAD_COLOR;
import static org.bytedeco.opencv.global.opencv_imgcodecs.imdecode;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.opencv.opencv_core.Mat;

/**
 * Decodes JPEG and PNG bytes into an 8-bit BGR {@link Mat}. OpenCV's {@code IMREAD_COLOR} applies the EXIF
 * orientation tag, so the returned image is upright as a viewer would show it.
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
        if (bytes == null || bytes.length == 0) {
            throw new MediaException(MediaException.Kind.EMPTY, name + ": empty image (0 bytes)");
        }
        try (BytePointer data = new BytePointer(bytes);
                Mat encoded = new Mat(1, bytes.length, CV_8UC1, data)) {
            Mat image;
            try {
                image = imdecode(encoded, IMREAD_COLOR);
            } catch (RuntimeException e) {
                throw new MediaException(MediaException.Kind.UNDECODABLE,
                        name + ": not a decodable image (" + e.getMessage() + ")", e);
            }
            if (image == null || image.empty()) {
                if (image != null) {
                    image.close();
                }
                throw new MediaException(MediaException.Kind.UNDECODABLE,
                        name + ": not a decodable JPEG or PNG image (" + bytes.length + " bytes)");
            }
            return image;
        }
    }
}
