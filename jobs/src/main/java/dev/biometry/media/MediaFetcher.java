package dev.biometry.media;

import dev.biometry.net.TimeBoxed;
import java.io.IOException;
import java.io.Serializable;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;

/**
 * Reads the bytes of a media URI. {@code file://} URIs are served only from inside the configured roots: the
 * real path (symlinks resolved) must lie under a root's real path, so neither {@code ..} nor a symlink escapes.
 *
 * <p>The file is then opened once, along that checked real path and without following any link: each folder from
 * the root down is opened relative to its parent ({@link SecureDirectoryStream}, i.e. {@code openat}) with
 * {@link LinkOption#NOFOLLOW_LINKS}, and the file's type is read from that folder before the file is opened there,
 * again without following a link. So a symbolic link swapped in after the check is refused rather than followed out
 * of the roots, and a FIFO, device, socket or folder is refused (error 4) before anything is read from it. Opening
 * and reading run under a time limit ({@link #DEFAULT_READ_TIMEOUT}), so a read that blocks (a FIFO swapped in
 * between the type check and the open) fails the media (error 11) instead of blocking the embedding thread. Reads
 * stop at the byte limit.
 */
public final class MediaFetcher implements Serializable {

    private static final long serialVersionUID = 1L;

    /** Time allowed to open and read one file. */
    public static final Duration DEFAULT_READ_TIMEOUT = Duration.ofSeconds(10);

    /** Opening and reading {@code file://} media. */
    private static final TimeBoxed FILE_READS = new TimeBoxed("media-file-read", 8, 256);

    private final List<String> roots;
    private final long maxBytes;
    private final long readTimeoutMillis;

    public MediaFetcher(List<String> roots, long maxBytes) {
        this(roots, maxBytes, DEFAULT_READ_TIMEOUT);
    }

    public MediaFetcher(List<String> roots, long maxBytes, Duration readTimeout) {
        if (readTimeout.isNegative() || readTimeout.isZero()) {
            throw new IllegalArgumentException("readTimeout must be positive: " + readTimeout);
        }
        this.roots = List.copyOf(roots);
        this.maxBytes = maxBytes;
        this.readTimeoutMillis = readTimeout.toMillis();
    }

    public byte[] fetch(String uriText) throws MediaException {
        URI uri;
        try {
            uri = URI.create(uriText);
        } catch (IllegalArgumentException e) {
            throw new MediaException(MediaException.Kind.FORBIDDEN, "invalid media URI " + uriText);
        }
        if (!"file".equalsIgnoreCase(uri.getScheme())) {
            throw new MediaException(
                    MediaException.Kind.FORBIDDEN,
                    "media URI scheme '" + uri.getScheme() + "' is not supported (only file:// under the media roots)");
        }
        Path requested;
        try {
            requested = Path.of(uri);
        } catch (IllegalArgumentException e) {
            throw new MediaException(MediaException.Kind.FORBIDDEN, "invalid file URI " + uriText);
        }
        Path real;
        try {
            real = requested.toRealPath();
        } catch (NoSuchFileException e) {
            checkInsideRoots(realPathOfMissing(requested.toAbsolutePath().normalize()), uriText);
            throw new MediaException(MediaException.Kind.NOT_FOUND, "media file not found: " + uriText);
        } catch (IOException e) {
            throw new MediaException(
                    MediaException.Kind.UNREADABLE, "cannot read media " + uriText + ": " + e.getMessage(), e);
        }
        Path root = checkInsideRoots(real, uriText);
        return readWithin(() -> openAndRead(root, real, uriText), uriText);
    }

    /** Runs {@code read} under the read time limit. */
    byte[] readWithin(Callable<byte[]> read, String uriText) throws MediaException {
        long deadline = System.nanoTime() + readTimeoutMillis * 1_000_000;
        try {
            return FILE_READS.call(read, deadline);
        } catch (TimeBoxed.Overrun e) {
            throw new MediaException(
                    MediaException.Kind.UNREADABLE,
                    e.rejected
                            ? "cannot read media " + uriText + ": too many file reads in flight"
                            : "reading media " + uriText + " did not finish within " + readTimeoutMillis + " ms",
                    e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof MediaException m) {
                throw m;
            }
            throw unreadable(uriText, e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MediaException(MediaException.Kind.UNREADABLE, "interrupted reading media " + uriText, e);
        }
    }

    /** Opens {@code real} (a real path under {@code root}) from the root down without following links, then reads it. */
    byte[] openAndRead(Path root, Path real, String uriText) throws MediaException {
        try (DirectoryStream<Path> top = Files.newDirectoryStream(root)) {
            if (!(top instanceof SecureDirectoryStream<Path> rootFolder)) {
                // No openat on this platform: the last component at least is opened without following a link.
                checkRegular(Files.readAttributes(real, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS), uriText);
                try (SeekableByteChannel channel =
                        Files.newByteChannel(real, Set.of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS))) {
                    return read(channel, uriText);
                }
            }
            Path relative = root.relativize(real);
            if (relative.toString().isEmpty()) {
                throw new MediaException(
                        MediaException.Kind.FORBIDDEN, "media " + uriText + " is not a regular file (a folder)");
            }
            List<SecureDirectoryStream<Path>> opened = new ArrayList<>();
            try {
                SecureDirectoryStream<Path> folder = rootFolder;
                for (int i = 0; i < relative.getNameCount() - 1; i++) {
                    folder = folder.newDirectoryStream(relative.getName(i), LinkOption.NOFOLLOW_LINKS);
                    opened.add(folder);
                }
                Path name = relative.getFileName();
                checkRegular(
                        folder.getFileAttributeView(name, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                                .readAttributes(),
                        uriText);
                try (SeekableByteChannel channel =
                        folder.newByteChannel(name, Set.of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS))) {
                    return read(channel, uriText);
                }
            } finally {
                for (SecureDirectoryStream<Path> folder : opened) {
                    folder.close();
                }
            }
        } catch (NoSuchFileException e) {
            throw new MediaException(MediaException.Kind.NOT_FOUND, "media file not found: " + uriText);
        } catch (AccessDeniedException e) {
            throw new MediaException(MediaException.Kind.UNREADABLE, "permission denied reading " + uriText, e);
        } catch (FileSystemException e) {
            String reason = String.valueOf(e.getReason());
            if (reason.contains("symbolic link") || reason.contains("Not a directory")) {
                // ELOOP or ENOTDIR from a no-follow open: a folder or the file was replaced after the path was checked.
                throw new MediaException(
                        MediaException.Kind.FORBIDDEN,
                        "media " + uriText
                                + " changed while it was opened (a symbolic link or a file replaced part of its path)",
                        e);
            }
            throw unreadable(uriText, e);
        } catch (IOException e) {
            throw unreadable(uriText, e);
        }
    }

    private static void checkRegular(BasicFileAttributes attributes, String uriText) throws MediaException {
        if (attributes.isRegularFile()) {
            return;
        }
        String what = attributes.isDirectory()
                ? "a folder"
                : attributes.isSymbolicLink()
                        ? "a symbolic link that appeared after the path was checked"
                        : "a FIFO, device or socket";
        throw new MediaException(
                MediaException.Kind.FORBIDDEN, "media " + uriText + " is not a regular file (" + what + ")");
    }

    /**
     * Refuses a file larger than the limit before reading it; else reads it to its end into an array of the size the
     * file had when opened, and returns that array when one more read finds the end (the common case: no copy). A
     * file that grows while it is read is read on in larger arrays, up to the limit plus one byte (one more than the
     * limit tells a file that grew over it). Reads are of at most {@link #READ_CHUNK} bytes: the JDK reads a heap
     * buffer through a direct buffer of the read's size that each thread keeps, so unbounded reads would pin a direct
     * buffer as large as the largest media.
     */
    private byte[] read(SeekableByteChannel channel, String uriText) throws IOException, MediaException {
        long size = channel.size();
        if (size > maxBytes) {
            throw tooLarge(uriText); // a regular file's size is known: nothing need be read to refuse it
        }
        int limit = (int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1);
        ByteBuffer buffer = ByteBuffer.allocate((int) size);
        ByteBuffer probe = ByteBuffer.allocate(1);
        while (true) {
            if (buffer.hasRemaining()) {
                int n = channel.read(buffer.slice(buffer.position(), Math.min(buffer.remaining(), READ_CHUNK)));
                if (n < 0) {
                    break; // shrank while read
                }
                buffer.position(buffer.position() + n);
                continue;
            }
            probe.clear();
            if (channel.read(probe) < 0) {
                return buffer.array(); // read to its end at the size it had when opened
            }
            if (buffer.capacity() + 1L > maxBytes) {
                throw tooLarge(uriText); // it grew over the limit while it was read
            }
            // It grew while it was read: on in an array twice as large (the probed byte first).
            ByteBuffer larger = ByteBuffer.allocate((int) Math.min(limit, Math.max(16, buffer.capacity() * 2L)));
            buffer = larger.put(buffer.flip()).put(probe.flip());
        }
        if (buffer.position() > maxBytes) {
            throw tooLarge(uriText); // it grew while it was read
        }
        return Arrays.copyOf(buffer.array(), buffer.position());
    }

    private MediaException tooLarge(String uriText) {
        return new MediaException(
                MediaException.Kind.TOO_LARGE,
                "media " + uriText + " is larger than the limit of " + maxBytes + " bytes");
    }

    /** The largest single read of a file (see {@link #read}). */
    static final int READ_CHUNK = 256 * 1024;

    private static MediaException unreadable(String uriText, Throwable cause) {
        return new MediaException(
                MediaException.Kind.UNREADABLE, "cannot read media " + uriText + ": " + cause.getMessage(), cause);
    }

    /**
     * A missing file's path with its deepest existing folder resolved to its real path, so that it compares with the
     * roots' real paths when a root is reached through a symbolic link.
     */
    private static Path realPathOfMissing(Path path) {
        Path existing = path.getParent();
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return path;
        }
        try {
            return existing.toRealPath().resolve(existing.relativize(path));
        } catch (IOException e) {
            return path;
        }
    }

    /** The real path of the root {@code path} lies under; refuses a path under none. */
    private Path checkInsideRoots(Path path, String uriText) throws MediaException {
        for (String root : roots) {
            Path rootPath = Path.of(root);
            try {
                rootPath = rootPath.toRealPath();
            } catch (IOException e) {
                continue;
            }
            if (path.startsWith(rootPath)) {
                return rootPath;
            }
        }
        throw new MediaException(
                MediaException.Kind.FORBIDDEN, "media " + uriText + " is outside the configured media roots");
    }
}
