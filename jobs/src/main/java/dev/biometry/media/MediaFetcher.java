package dev.biometry.media;

import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.net.URI;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * Reads the bytes of a media URI. {@code file://} URIs are served only from inside the configured roots: the
 * real path (symlinks resolved) must lie under a root's real path, so neither {@code ..} nor a symlink escapes.
 * Reads stop at the byte limit.
 */
public final class MediaFetcher implements Serializable {

    private static final long serialVersionUID = 1L;

    private final List<String> roots;
    private final long maxBytes;

    public MediaFetcher(List<String> roots, long maxBytes) {
        this.roots = List.copyOf(roots);
        this.maxBytes = maxBytes;
    }

    public byte[] fetch(String uriText) throws MediaException {
        URI uri;
        try {
            uri = URI.create(uriText);
        } catch (IllegalArgumentException e) {
            throw new MediaException(MediaException.Kind.FORBIDDEN, "invalid media URI " + uriText);
        }
        if (!"file".equalsIgnoreCase(uri.getScheme())) {
            throw new MediaException(MediaException.Kind.FORBIDDEN,
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
            throw new MediaException(MediaException.Kind.UNREADABLE, "cannot read media " + uriText + ": " + e.getMessage(), e);
        }
        checkInsideRoots(real, uriText);
        if (!Files.isRegularFile(real)) {
            throw new MediaException(MediaException.Kind.NOT_FOUND, "media is not a regular file: " + uriText);
        }
        try (InputStream in = Files.newInputStream(real)) {
            byte[] bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1));
            if (bytes.length > maxBytes) {
                throw new MediaException(MediaException.Kind.TOO_LARGE,
                        "media " + uriText + " is larger than the limit of " + maxBytes + " bytes");
            }
            return bytes;
        } catch (AccessDeniedException e) {
            throw new MediaException(MediaException.Kind.UNREADABLE, "permission denied reading " + uriText, e);
        } catch (IOException e) {
            throw new MediaException(MediaException.Kind.UNREADABLE, "cannot read media " + uriText + ": " + e.getMessage(), e);
        }
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

    private void checkInsideRoots(Path path, String uriText) throws MediaException {
        for (String root : roots) {
            Path rootPath = Path.of(root);
            try {
                rootPath = rootPath.toRealPath();
            } catch (IOException e) {
                continue;
            }
            if (path.startsWith(rootPath)) {
                return;
            }
        }
        throw new MediaException(MediaException.Kind.FORBIDDEN, "media " + uriText + " is outside the configured media roots");
    }
}
