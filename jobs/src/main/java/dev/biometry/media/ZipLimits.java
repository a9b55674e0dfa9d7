package dev.biometry.media;

import java.io.Serializable;

/**
 * Bounds on a shots-set ZIP, all enforced on the bytes actually inflated (the sizes in the entry headers are not
 * trusted). Every entry counts: directories and files that are not images too.
 *
 * @param maxEntries most entries in the archive
 * @param maxEntryBytes most bytes one entry may inflate to
 * @param maxTotalBytes most bytes all entries together may inflate to
 * @param maxCompressionRatio highest inflated:compressed ratio of one entry and of the whole archive; checked once
 *     {@link #RATIO_CHECK_MIN_BYTES} have been inflated, so small, very compressible files pass
 */
public record ZipLimits(int maxEntries, long maxEntryBytes, long maxTotalBytes, int maxCompressionRatio)
        implements Serializable {

    /** Inflated bytes (of an entry, or of the archive) below which the compression ratio is not checked. */
    public static final long RATIO_CHECK_MIN_BYTES = 1L << 20;

    /** 200 entries, 10 MiB per entry, 50 MiB in all, 100:1. */
    public static final ZipLimits DEFAULTS = new ZipLimits(200, 10L << 20, 50L << 20, 100);

    public ZipLimits {
        if (maxEntries <= 0 || maxEntryBytes <= 0 || maxTotalBytes <= 0 || maxCompressionRatio <= 0) {
            throw new IllegalArgumentException("ZIP limits must be positive: " + maxEntries + ", " + maxEntryBytes
                    + ", " + maxTotalBytes + ", " + maxCompressionRatio);
        }
    }
}
