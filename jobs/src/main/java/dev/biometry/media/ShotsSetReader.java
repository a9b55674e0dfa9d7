package dev.biometry.media;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * Reads a SHOTS_SET: a ZIP of JPEG and PNG frames, held in memory. Entries are streamed with {@link ZipInputStream},
 * entry names never reach the file system, and every {@link ZipLimits} bound is checked while inflating, so a ZIP
 * bomb stops after at most {@link ZipLimits#RATIO_CHECK_MIN_BYTES} of a degenerate entry.
 *
 * <p>Returns the image entries in natural name order (2.jpg before 10.jpg), recognised by their magic bytes whatever
 * their extension. Directories and other files are skipped but count toward the limits. An entry name that could
 * escape a directory ({@code ..} segments, absolute paths, backslashes, drive letters) makes the whole set refused.
 */
public final class ShotsSetReader implements Serializable {

    private static final long serialVersionUID = 1L;

    /** Orders names with their digit runs compared as numbers, case-insensitively otherwise. */
    public static final Comparator<String> NATURAL_ORDER = ShotsSetReader::compareNatural;

    private static final byte[] JPEG_MAGIC = {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF};
    private static final byte[] PNG_MAGIC = {(byte) 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A};
    private static final byte[] ZIP_LOCAL_HEADER = {0x50, 0x4B, 0x03, 0x04};
    private static final byte[] ZIP_EMPTY_ARCHIVE = {0x50, 0x4B, 0x05, 0x06};
    /**
     * ZipInputStream feeds its inflater 512 bytes at a time and pushes back what an entry did not use, so the
     * compressed bytes counted for an entry can be short by that much; ratios allow for it.
     */
    private static final int INFLATER_READ_AHEAD = 512;

    private final ZipLimits limits;

    public ShotsSetReader() {
        this(ZipLimits.DEFAULTS);
    }

    public ShotsSetReader(ZipLimits limits) {
        this.limits = limits;
    }

    /**
     * Returns the set's images in natural name order.
     *
     * @param name names the media in error messages
     * @throws MediaException {@link MediaException.Kind#EMPTY} for zero bytes or a ZIP without a JPEG or PNG;
     *     {@link MediaException.Kind#UNDECODABLE} for bytes that are not a readable ZIP;
     *     {@link MediaException.Kind#FORBIDDEN} for an unsafe entry name; {@link MediaException.Kind#TOO_LARGE} when a
     *     limit is passed
     */
    public List<ShotsSetImage> read(byte[] zip, String name) throws MediaException {
        if (zip == null || zip.length == 0) {
            throw new MediaException(MediaException.Kind.EMPTY, name + ": empty shots set (0 bytes)");
        }
        if (!startsWith(zip, ZIP_LOCAL_HEADER) && !startsWith(zip, ZIP_EMPTY_ARCHIVE)) {
            throw new MediaException(
                    MediaException.Kind.UNDECODABLE, name + ": not a ZIP archive (" + zip.length + " bytes)");
        }
        CountingInputStream compressed = new CountingInputStream(new ByteArrayInputStream(zip));
        List<ShotsSetImage> images = new ArrayList<>();
        Totals totals = new Totals();
        try (ZipInputStream entries = new ZipInputStream(compressed)) {
            ZipEntry entry;
            while ((entry = entries.getNextEntry()) != null) {
                totals.entries++;
                if (totals.entries > limits.maxEntries()) {
                    throw new MediaException(
                            MediaException.Kind.TOO_LARGE,
                            name + ": more than " + limits.maxEntries() + " entries; the limit is "
                                    + limits.maxEntries());
                }
                String entryName = entry.getName();
                if (!isSafe(entryName)) {
                    throw new MediaException(MediaException.Kind.FORBIDDEN, name + ": unsafe entry name " + entryName);
                }
                // Directories are inflated too: an entry's data is read (and bounded) whatever its name says.
                byte[] image = readImage(entries, entryName, compressed, totals, name);
                if (image != null && !entry.isDirectory()) {
                    images.add(new ShotsSetImage(entryName, image));
                }
            }
        } catch (IOException | IllegalArgumentException e) {
            // ZipInputStream throws IllegalArgumentException for entry names that are not valid in their charset.
            throw new MediaException(
                    MediaException.Kind.UNDECODABLE, name + ": corrupt ZIP archive (" + e.getMessage() + ")", e);
        }
        if (images.isEmpty()) {
            throw new MediaException(
                    MediaException.Kind.EMPTY,
                    name + ": no JPEG or PNG image in the shots set (" + totals.entries + " entries)");
        }
        images.sort(Comparator.comparing(ShotsSetImage::name, NATURAL_ORDER));
        return images;
    }

    private static final class Totals {
        int entries;
        long inflatedBytes;
    }

    /** Inflates the current entry under the limits; returns its bytes if it is a JPEG or PNG, else null. */
    private byte[] readImage(
            ZipInputStream entries, String entryName, CountingInputStream compressed, Totals totals, String name)
            throws IOException, MediaException {
        long compressedAtStart = compressed.count();
        long entryBytes = 0;
        ByteArrayOutputStream kept = new ByteArrayOutputStream();
        boolean image = true;
        boolean magicChecked = false;
        byte[] buffer = new byte[8192];
        int read;
        while ((read = entries.read(buffer)) > 0) {
            entryBytes += read;
            totals.inflatedBytes += read;
            if (entryBytes > limits.maxEntryBytes()) {
                throw new MediaException(
                        MediaException.Kind.TOO_LARGE,
                        name + ": entry " + entryName
                                + " inflates to more than " + limits.maxEntryBytes() + " bytes; the limit is "
                                + limits.maxEntryBytes());
            }
            if (totals.inflatedBytes > limits.maxTotalBytes()) {
                throw new MediaException(
                        MediaException.Kind.TOO_LARGE,
                        name + ": entries inflate to more than " + limits.maxTotalBytes()
                                + " bytes in all; the limit is " + limits.maxTotalBytes());
            }
            checkRatio(entryBytes, compressed.count() - compressedAtStart, "entry " + entryName, name);
            checkRatio(totals.inflatedBytes, compressed.count(), "the archive", name);
            if (image) {
                kept.write(buffer, 0, read);
                if (!magicChecked && kept.size() >= PNG_MAGIC.length) {
                    magicChecked = true;
                    image = isImage(kept.toByteArray());
                }
            }
        }
        if (!image) {
            return null;
        }
        byte[] bytes = kept.toByteArray();
        return isImage(bytes) ? bytes : null;
    }

    private void checkRatio(long inflated, long compressedBytes, String what, String name) throws MediaException {
        if (inflated > ZipLimits.RATIO_CHECK_MIN_BYTES
                && inflated > (long) limits.maxCompressionRatio() * (compressedBytes + INFLATER_READ_AHEAD)) {
            throw new MediaException(
                    MediaException.Kind.TOO_LARGE,
                    name + ": " + what + " is compressed more than "
                            + limits.maxCompressionRatio() + ":1 (" + inflated + " bytes from about " + compressedBytes
                            + "); the limit is " + limits.maxCompressionRatio() + ":1");
        }
    }

    private static boolean isImage(byte[] head) {
        return startsWith(head, JPEG_MAGIC) || startsWith(head, PNG_MAGIC);
    }

    private static boolean startsWith(byte[] bytes, byte[] prefix) {
        if (bytes.length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (bytes[i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    /** False for names that would leave the extraction directory if a careless consumer ever wrote them out. */
    static boolean isSafe(String entryName) {
        if (entryName.isEmpty()
                || entryName.startsWith("/")
                || entryName.indexOf('\\') >= 0
                || entryName.indexOf('\0') >= 0) {
            return false;
        }
        if (entryName.length() >= 2 && entryName.charAt(1) == ':' && Character.isLetter(entryName.charAt(0))) {
            return false;
        }
        for (String segment : entryName.split("/", -1)) {
            if (segment.equals("..")) {
                return false;
            }
        }
        return true;
    }

    static int compareNatural(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            char ca = a.charAt(i);
            char cb = b.charAt(j);
            if (isAsciiDigit(ca) && isAsciiDigit(cb)) {
                int startA = i;
                int startB = j;
                while (i < a.length() && isAsciiDigit(a.charAt(i))) {
                    i++;
                }
                while (j < b.length() && isAsciiDigit(b.charAt(j))) {
                    j++;
                }
                String numberA = stripLeadingZeros(a.substring(startA, i));
                String numberB = stripLeadingZeros(b.substring(startB, j));
                // Longer digit runs are larger numbers; equal lengths compare digit by digit. No overflow.
                int byValue = numberA.length() != numberB.length()
                        ? Integer.compare(numberA.length(), numberB.length())
                        : numberA.compareTo(numberB);
                if (byValue != 0) {
                    return byValue;
                }
            } else {
                int byChar = Character.compare(Character.toLowerCase(ca), Character.toLowerCase(cb));
                if (byChar != 0) {
                    return byChar;
                }
                i++;
                j++;
            }
        }
        int byRemaining = Integer.compare(a.length() - i, b.length() - j);
        return byRemaining != 0 ? byRemaining : a.compareTo(b);
    }

    private static boolean isAsciiDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static String stripLeadingZeros(String digits) {
        int k = 0;
        while (k < digits.length() - 1 && digits.charAt(k) == '0') {
            k++;
        }
        return digits.substring(k);
    }

    /** Counts the compressed bytes ZipInputStream has taken, to measure compression ratios as they happen. */
    private static final class CountingInputStream extends FilterInputStream {

        private long count;

        CountingInputStream(InputStream in) {
            super(in);
        }

        long count() {
            return count;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                count++;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                count += n;
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            long skipped = super.skip(n);
            count += skipped;
            return skipped;
        }
    }
}
