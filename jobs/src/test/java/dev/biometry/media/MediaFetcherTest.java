package dev.biometry.media;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link MediaFetcher} on real files: {@code file://} URIs whose {@code ..} segments climb out of the media root are
 * refused (error 4), whether the file outside exists or not; {@code ..} that stays inside the root is fine.
 */
class MediaFetcherTest {

    private static final byte[] SECRET = "not for the job".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] INSIDE = "inside the root".getBytes(StandardCharsets.US_ASCII);

    @TempDir
    Path base;

    private MediaFetcher fetcher;

    @BeforeEach
    void layOutFiles() throws Exception {
        Files.createDirectories(base.resolve("root/sub"));
        Files.write(base.resolve("root/inside.jpg"), INSIDE);
        Files.createDirectories(base.resolve("outside"));
        Files.write(base.resolve("outside/secret.jpg"), SECRET);
        fetcher = new MediaFetcher(List.of(base.resolve("root").toString()), 1 << 20);
    }

    /** {@code file:///…/base/} followed by {@code relative}, kept as written: URI.create does not normalise. */
    private String uri(String relative) {
        return base.toUri() + relative;
    }

    @Test
    void dotDotOutOfTheRootIsRefused() throws Exception {
        String escape = uri("root/../outside/secret.jpg");
        assertThat(escape).contains("/root/../outside/");

        MediaException e = catchThrowableOfType(() -> fetcher.fetch(escape), MediaException.class);

        assertThat(e).as("fetching " + escape).isNotNull();
        assertThat(e.kind()).isEqualTo(MediaException.Kind.FORBIDDEN);
        assertThat(e.ozErrorCode()).isEqualTo(4);
        assertThat(e).hasMessage("media " + escape + " is outside the configured media roots");
        // The same file is readable when it is inside a root: the refusal is the root check, not the file.
        assertThat(new MediaFetcher(List.of(base.resolve("outside").toString()), 1 << 20).fetch(escape))
                .isEqualTo(SECRET);
    }

    @Test
    void dotDotOutOfTheRootToAMissingFileIsRefusedNotReportedMissing() {
        String escape = uri("root/sub/../../outside/nothing-here.jpg");

        MediaException e = catchThrowableOfType(() -> fetcher.fetch(escape), MediaException.class);

        assertThat(e).isNotNull();
        assertThat(e.kind()).as("no probing for files outside the root").isEqualTo(MediaException.Kind.FORBIDDEN);
        assertThat(e.ozErrorCode()).isEqualTo(4);
        assertThat(e).hasMessageContaining("outside the configured media roots");
    }

    @Test
    void dotDotThatStaysInsideTheRootIsServed() throws Exception {
        assertThat(fetcher.fetch(uri("root/sub/../inside.jpg"))).isEqualTo(INSIDE);

        MediaException missing =
                catchThrowableOfType(() -> fetcher.fetch(uri("root/sub/../gone.jpg")), MediaException.class);
        assertThat(missing.kind()).isEqualTo(MediaException.Kind.NOT_FOUND);
        assertThat(missing.ozErrorCode()).isEqualTo(10);
    }

    @Test
    void aRootReachedThroughASymbolicLinkServesItsFilesAndReportsMissingOnesAsMissing() throws Exception {
        Path link = Files.createSymbolicLink(base.resolve("link-root"), base.resolve("root"));
        MediaFetcher viaLink = new MediaFetcher(List.of(link.toString()), 1 << 20);

        assertThat(viaLink.fetch(uri("link-root/inside.jpg"))).isEqualTo(INSIDE);
        MediaException missing =
                catchThrowableOfType(() -> viaLink.fetch(uri("link-root/sub/gone.jpg")), MediaException.class);
        assertThat(missing.kind()).isEqualTo(MediaException.Kind.NOT_FOUND);
        assertThat(missing.ozErrorCode()).isEqualTo(10);
        MediaException escape =
                catchThrowableOfType(() -> viaLink.fetch(uri("link-root/../outside/gone.jpg")), MediaException.class);
        assertThat(escape.kind()).isEqualTo(MediaException.Kind.FORBIDDEN);
    }

    @Test
    void aSymbolicLinkInsideTheRootToAFileOrFolderInsideTheRootIsServed() throws Exception {
        Files.write(base.resolve("root/sub/deep.jpg"), INSIDE);
        Files.createSymbolicLink(base.resolve("root/link.jpg"), base.resolve("root/inside.jpg"));
        Files.createSymbolicLink(base.resolve("root/link-dir"), Path.of("sub"));

        assertThat(fetcher.fetch(uri("root/link.jpg"))).isEqualTo(INSIDE);
        assertThat(fetcher.fetch(uri("root/link-dir/deep.jpg"))).isEqualTo(INSIDE);
        Files.createSymbolicLink(base.resolve("root/out.jpg"), base.resolve("outside/secret.jpg"));
        assertThat(catchThrowableOfType(() -> fetcher.fetch(uri("root/out.jpg")), MediaException.class)
                        .kind())
                .isEqualTo(MediaException.Kind.FORBIDDEN);
    }

    @Test
    @Timeout(60)
    void fifosFoldersAndDevicesAreRefusedBeforeAnythingIsRead() throws Exception {
        Path fifo = base.resolve("root/pipe.jpg");
        assertThat(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor())
                .isZero();

        // Opening a FIFO with no writer would block forever: it is refused from its type, without opening it.
        MediaException pipe =
                catchThrowableOfType(() -> fetcher.fetch(fifo.toUri().toString()), MediaException.class);
        assertThat(pipe.ozErrorCode()).isEqualTo(4);
        assertThat(pipe).hasMessageContaining("is not a regular file (a FIFO, device or socket)");

        MediaException folder = catchThrowableOfType(() -> fetcher.fetch(uri("root/sub")), MediaException.class);
        assertThat(folder.ozErrorCode()).isEqualTo(4);
        assertThat(folder).hasMessageContaining("is not a regular file (a folder)");

        MediaFetcher devices = new MediaFetcher(List.of("/dev"), 1 << 20);
        for (String device : List.of("file:///dev/zero", "file:///dev/null")) {
            MediaException e = catchThrowableOfType(() -> devices.fetch(device), MediaException.class);
            assertThat(e).as(device).isNotNull();
            assertThat(e.ozErrorCode()).isEqualTo(4);
            assertThat(e).hasMessageContaining("is not a regular file (a FIFO, device or socket)");
        }
    }

    @Test
    void aSymbolicLinkSwappedInAfterThePathWasCheckedIsNotFollowed() throws Exception {
        Path root = base.resolve("root").toRealPath();
        Files.write(root.resolve("sub/file.jpg"), INSIDE);
        Path checkedFile = root.resolve("sub/file.jpg").toRealPath();
        Path checkedLeaf = root.resolve("inside.jpg").toRealPath();
        Files.write(base.resolve("outside/file.jpg"), SECRET);
        // Both paths were checked; now a folder and then the file itself are replaced by links out of the root.
        Files.delete(root.resolve("sub/file.jpg"));
        Files.delete(root.resolve("sub"));
        Files.createSymbolicLink(root.resolve("sub"), base.resolve("outside"));
        Files.delete(checkedLeaf);
        Files.createSymbolicLink(checkedLeaf, base.resolve("outside/secret.jpg"));

        MediaException folder = catchThrowableOfType(
                () -> fetcher.openAndRead(root, checkedFile, "file:///sub/file.jpg"), MediaException.class);
        assertThat(folder.kind()).isEqualTo(MediaException.Kind.FORBIDDEN);
        assertThat(folder).hasMessageContaining("changed while it was opened");
        MediaException leaf = catchThrowableOfType(
                () -> fetcher.openAndRead(root, checkedLeaf, "file:///inside.jpg"), MediaException.class);
        assertThat(leaf.kind()).isEqualTo(MediaException.Kind.FORBIDDEN);
        assertThat(leaf).hasMessageContaining("symbolic link");
    }

    @Test
    @Timeout(60)
    void aReadThatBlocksGivesUpAtTheReadTimeLimit() throws Exception {
        Path fifo = base.resolve("root/late-pipe.jpg");
        assertThat(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor())
                .isZero();
        MediaFetcher quick =
                new MediaFetcher(List.of(base.resolve("root").toString()), 1 << 20, Duration.ofMillis(500));
        try {
            long start = System.nanoTime();
            // As if the FIFO had been swapped in between the type check and the open: opening it blocks.
            MediaException e = catchThrowableOfType(
                    () -> quick.readWithin(() -> Files.readAllBytes(fifo), "pipe"), MediaException.class);
            long elapsedMillis = (System.nanoTime() - start) / 1_000_000;

            assertThat(e.kind()).isEqualTo(MediaException.Kind.UNREADABLE);
            assertThat(e).hasMessage("reading media pipe did not finish within 500 ms");
            assertThat(elapsedMillis).isBetween(400L, 20_000L);
        } finally {
            // Releases the abandoned reader: a writer opens and closes the FIFO, the reader sees end of file.
            try (var writer = Files.newOutputStream(fifo)) {
                writer.flush();
            }
        }
    }

    @Test
    void filesAreReadWholeInChunksUpToTheLimitAndOneByteMoreIsRefused() throws Exception {
        int limit = 3 * MediaFetcher.READ_CHUNK + 7;
        MediaFetcher limited = new MediaFetcher(List.of(base.resolve("root").toString()), limit);
        java.util.Random random = new java.util.Random(42);
        for (int size : new int[] {
            0, 1, MediaFetcher.READ_CHUNK - 1, MediaFetcher.READ_CHUNK, MediaFetcher.READ_CHUNK + 1, limit
        }) {
            byte[] content = new byte[size];
            random.nextBytes(content);
            Path file = base.resolve("root/sized-" + size + ".jpg");
            Files.write(file, content);

            assertThat(limited.fetch(file.toUri().toString()))
                    .as("%d bytes", size)
                    .isEqualTo(content);
        }
        Path over = base.resolve("root/over.jpg");
        Files.write(over, new byte[limit + 1]);

        MediaException e = catchThrowableOfType(() -> limited.fetch(over.toUri().toString()), MediaException.class);

        assertThat(e.kind()).isEqualTo(MediaException.Kind.TOO_LARGE);
        assertThat(e).hasMessage("media " + over.toUri() + " is larger than the limit of " + limit + " bytes");
    }

    @Test
    void aFileLongerThanTheSizeItHadWhenOpenedIsReadToItsEnd() throws Exception {
        // Files under /proc say they have 0 bytes and have more: as a file that grows after it was opened.
        Path cmdline = Path.of("/proc/self/cmdline");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isReadable(cmdline), "no /proc on this system");
        byte[] expected = Files.readAllBytes(cmdline);
        assertThat(Files.size(cmdline)).isZero();
        assertThat(expected.length).isGreaterThan(1);

        byte[] read = new MediaFetcher(List.of("/proc"), 1 << 20)
                .fetch(cmdline.toUri().toString());

        assertThat(read).isEqualTo(expected);
        // Over the limit while it is read (its size said 0): refused once it passes the limit.
        MediaException e = catchThrowableOfType(
                () -> new MediaFetcher(List.of("/proc"), 2)
                        .fetch(cmdline.toUri().toString()),
                MediaException.class);
        assertThat(e.kind()).isEqualTo(MediaException.Kind.TOO_LARGE);
    }
}
