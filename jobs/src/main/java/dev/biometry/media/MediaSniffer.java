package dev.biometry.media;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * Identifies media by their magic bytes, never by file extension or declared content type, so a renamed or
 * mislabelled upload is seen for what it is.
 */
public final class MediaSniffer {

    /** Enough leading bytes for every signature recognized here. */
    public static final int HEADER_BYTES = 16;

    private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    private static final Set<String> HEIF_BRANDS =
            Set.of("heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1", "avif", "avis");
    /** Top-level atoms that old QuickTime files start with instead of {@code ftyp}. */
    private static final Set<String> QUICKTIME_ATOMS = Set.of("moov", "mdat", "wide", "pnot");

    private MediaSniffer() {}

    /** The kind of {@code bytes}, judged from its first {@value #HEADER_BYTES} bytes; {@code UNKNOWN} if none fits. */
    public static ContentKind sniff(byte[] bytes) {
        if (bytes == null) {
            return ContentKind.UNKNOWN;
        }
        if (startsWith(bytes, 0, 0xFF, 0xD8, 0xFF)) {
            return ContentKind.JPEG;
        }
        if (startsWith(bytes, 0, PNG_SIGNATURE)) {
            return ContentKind.PNG;
        }
        if (ascii(bytes, 0, "GIF87a") || ascii(bytes, 0, "GIF89a")) {
            return ContentKind.GIF;
        }
        if (ascii(bytes, 0, "RIFF")) {
            if (ascii(bytes, 8, "WEBP")) {
                return ContentKind.WEBP;
            }
            if (ascii(bytes, 8, "AVI ")) {
                return ContentKind.AVI;
            }
            return ContentKind.UNKNOWN;
        }
        if (ascii(bytes, 4, "ftyp")) {
            String majorBrand = bytes.length >= 12 ? new String(bytes, 8, 4, StandardCharsets.ISO_8859_1) : "";
            return HEIF_BRANDS.contains(majorBrand) ? ContentKind.HEIF : ContentKind.MP4;
        }
        if (bytes.length >= 8 && QUICKTIME_ATOMS.contains(new String(bytes, 4, 4, StandardCharsets.ISO_8859_1))) {
            return ContentKind.MP4;
        }
        if (startsWith(bytes, 0, 0x1A, 0x45, 0xDF, 0xA3)) {
            return ContentKind.WEBM;
        }
        if (startsWith(bytes, 0, 'P', 'K', 3, 4) || startsWith(bytes, 0, 'P', 'K', 5, 6)) {
            return ContentKind.ZIP;
        }
        return ContentKind.UNKNOWN;
    }

    /** The kind of the file at {@code path}, reading only its first bytes. */
    public static ContentKind sniff(Path path) throws IOException {
        try (InputStream in = Files.newInputStream(path)) {
            return sniff(in.readNBytes(HEADER_BYTES));
        }
    }

    private static boolean startsWith(byte[] bytes, int offset, int... expected) {
        if (bytes.length < offset + expected.length) {
            return false;
        }
        for (int i = 0; i < expected.length; i++) {
            if ((bytes[offset + i] & 0xFF) != expected[i]) {
                return false;
            }
        }
        return true;
    }

    private static boolean startsWith(byte[] bytes, int offset, byte[] expected) {
        if (bytes.length < offset + expected.length) {
            return false;
        }
        for (int i = 0; i < expected.length; i++) {
            if (bytes[offset + i] != expected[i]) {
                return false;
            }
        }
        return true;
    }

    private static boolean ascii(byte[] bytes, int offset, String expected) {
        return startsWith(bytes, offset, expected.getBytes(StandardCharsets.ISO_8859_1));
    }
}
