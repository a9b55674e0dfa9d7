package dev.biometry.media;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Optional;

/**
 * Reads an image's declared width and height from its header, without decoding it, so a small file that would
 * decode into gigabytes (a decompression bomb) is refused before the decoder allocates anything. Knows PNG (IHDR)
 * and JPEG (SOF markers); for anything else, or an unreadable header, it answers "unknown" and leaves the verdict
 * to the decoder.
 */
public final class ImageHeaderCheck {

    private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

    private ImageHeaderCheck() {}

    /** Width and height as declared by an image header. */
    public record Dimensions(long width, long height) {
        public long pixels() {
            return width * height;
        }
    }

    /** The declared dimensions, or empty if the format is not PNG/JPEG or the header cannot be read. */
    public static Optional<Dimensions> dimensions(byte[] bytes) {
        if (bytes == null) {
            return Optional.empty();
        }
        if (startsWithPngSignature(bytes)) {
            return Optional.ofNullable(png(bytes));
        }
        if (bytes.length >= 2 && (bytes[0] & 0xFF) == 0xFF && (bytes[1] & 0xFF) == 0xD8) {
            return Optional.ofNullable(jpeg(bytes));
        }
        return Optional.empty();
    }

    /** Declared width × height, or -1 if unknown. */
    public static long pixels(byte[] bytes) {
        return dimensions(bytes).map(Dimensions::pixels).orElse(-1L);
    }

    /**
     * Refuses an image whose header declares more than {@code maxPixels} pixels.
     *
     * @return the declared pixel count, or -1 if the header could not be read (the decoder decides then)
     * @throws MediaException {@link MediaException.Kind#TOO_LARGE} above the limit
     */
    public static long checkPixels(byte[] bytes, long maxPixels) throws MediaException {
        Optional<Dimensions> dimensions = dimensions(bytes);
        if (dimensions.isEmpty()) {
            return -1;
        }
        Dimensions d = dimensions.get();
        if (d.pixels() > maxPixels) {
            throw new MediaException(
                    MediaException.Kind.TOO_LARGE,
                    "image declares " + d.width() + " x " + d.height() + " pixels (" + megapixels(d.pixels())
                            + " MP); the limit is " + megapixels(maxPixels) + " MP");
        }
        return d.pixels();
    }

    private static Dimensions png(byte[] b) {
        // signature (8), then the first chunk must be IHDR: length (4) "IHDR" (4) width (4) height (4)
        if (b.length < 24 || b[12] != 'I' || b[13] != 'H' || b[14] != 'D' || b[15] != 'R') {
            return null;
        }
        long width = u32(b, 16);
        long height = u32(b, 20);
        return width == 0 || height == 0 ? null : new Dimensions(width, height);
    }

    private static Dimensions jpeg(byte[] b) {
        int pos = 2;
        while (pos < b.length) {
            if ((b[pos] & 0xFF) != 0xFF) {
                pos++; // stray bytes between segments: decoders skip them too
                continue;
            }
            while (pos < b.length && (b[pos] & 0xFF) == 0xFF) {
                pos++; // a marker may be preceded by any number of 0xFF fill bytes
            }
            if (pos >= b.length) {
                return null;
            }
            int marker = b[pos++] & 0xFF;
            if (marker == 0x00 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) {
                continue; // stuffed byte, TEM, RSTn, SOI: no length field
            }
            if (marker == 0xD9 || marker == 0xDA) {
                return null; // EOI or start of scan before any frame header
            }
            if (pos + 2 > b.length) {
                return null;
            }
            int length = u16(b, pos);
            if (length < 2) {
                return null;
            }
            if (isStartOfFrame(marker)) {
                // length (2) precision (1) height (2) width (2) components (1)
                if (length < 8 || pos + 7 > b.length) {
                    return null;
                }
                int height = u16(b, pos + 3);
                int width = u16(b, pos + 5);
                // height 0 means "given later by a DNL marker": leave that to the decoder
                return width == 0 || height == 0 ? null : new Dimensions(width, height);
            }
            pos += length;
        }
        return null;
    }

    /** SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC) which share the range. */
    private static boolean isStartOfFrame(int marker) {
        return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    }

    private static boolean startsWithPngSignature(byte[] b) {
        if (b.length < PNG_SIGNATURE.length) {
            return false;
        }
        for (int i = 0; i < PNG_SIGNATURE.length; i++) {
            if (b[i] != PNG_SIGNATURE[i]) {
                return false;
            }
        }
        return true;
    }

    private static String megapixels(long pixels) {
        return BigDecimal.valueOf(pixels)
                .movePointLeft(6)
                .setScale(1, RoundingMode.HALF_UP)
                .stripTrailingZeros()
                .toPlainString();
    }

    private static int u16(byte[] b, int at) {
        return ((b[at] & 0xFF) << 8) | (b[at + 1] & 0xFF);
    }

    private static long u32(byte[] b, int at) {
        return ((long) (b[at] & 0xFF) << 24)
                | ((b[at + 1] & 0xFF) << 16)
                | ((b[at + 2] & 0xFF) << 8)
                | (b[at + 3] & 0xFF);
    }
}
