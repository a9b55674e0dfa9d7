package dev.biometry.cli;

import static org.bytedeco.opencv.global.opencv_core.CV_8UC3;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.opencv.global.opencv_imgcodecs;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Scalar;

/**
 * Media files made to attack the engine, for the soak command and the poison-input tests: a PNG header declaring
 * a huge image, a ZIP bomb, a shots set that is small on disk and huge decoded.
 */
public final class HostileMedia {

    private HostileMedia() {}

    /** A PNG signature and an IHDR chunk declaring {@code width} x {@code height} RGB, then nothing. */
    public static byte[] pngHeader(int width, int height) {
        ByteBuffer ihdr = ByteBuffer.allocate(17);
        ihdr.put("IHDR".getBytes(StandardCharsets.US_ASCII))
                .putInt(width)
                .putInt(height)
                .put((byte) 8)
                .put((byte) 2)
                .put((byte) 0)
                .put((byte) 0)
                .put((byte) 0);
        CRC32 crc = new CRC32();
        crc.update(ihdr.array());
        return ByteBuffer.allocate(8 + 4 + 17 + 4)
                .put(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'})
                .putInt(13)
                .put(ihdr.array())
                .putInt((int) crc.getValue())
                .array();
    }

    /** A ZIP with one entry {@code frame.png} of {@code bytes} zeros (about 1000:1 compressed). */
    public static byte[] zipBomb(long bytes) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(out)) {
            zip.putNextEntry(new ZipEntry("frame.png"));
            byte[] zeros = new byte[1 << 20];
            for (long written = 0; written < bytes; written += zeros.length) {
                zip.write(zeros, 0, (int) Math.min(zeros.length, bytes - written));
            }
            zip.closeEntry();
        }
        return out.toByteArray();
    }

    /** A shots set of {@code frames} uniform {@code width} x {@code height} PNGs: small on disk, large decoded. */
    public static byte[] uniformShotsSet(int frames, int width, int height) throws IOException {
        byte[] png;
        try (Mat picture = new Mat(height, width, CV_8UC3, new Scalar(120, 110, 100, 0));
                BytePointer buf = new BytePointer()) {
            opencv_imgcodecs.imencode(".png", picture, buf);
            png = new byte[(int) buf.limit()];
            buf.get(png);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(out)) {
            for (int i = 0; i < frames; i++) {
                zip.putNextEntry(new ZipEntry(String.format(Locale.ROOT, "frame%02d.png", i)));
                zip.write(png);
                zip.closeEntry();
            }
        }
        return out.toByteArray();
    }
}
