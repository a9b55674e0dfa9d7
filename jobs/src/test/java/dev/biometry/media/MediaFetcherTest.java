package dev.biometry.media;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
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

        MediaException missing = catchThrowableOfType(() -> fetcher.fetch(uri("root/sub/../gone.jpg")),
                MediaException.class);
        assertThat(missing.kind()).isEqualTo(MediaException.Kind.NOT_FOUND);
        assertThat(missing.ozErrorCode()).isEqualTo(10);
    }

    @Test
    void aRootReachedThroughASymbolicLinkServesItsFilesAndReportsMissingOnesAsMissing() throws Exception {
        Path link = Files.createSymbolicLink(base.resolve("link-root"), base.resolve("root"));
        MediaFetcher viaLink = new MediaFetcher(List.of(link.toString()), 1 << 20);

        assertThat(viaLink.fetch(uri("link-root/inside.jpg"))).isEqualTo(INSIDE);
        MediaException missing = catchThrowableOfType(() -> viaLink.fetch(uri("link-root/sub/gone.jpg")),
                MediaException.class);
        assertThat(missing.kind()).isEqualTo(MediaException.Kind.NOT_FOUND);
        assertThat(missing.ozErrorCode()).isEqualTo(10);
        MediaException escape = catchThrowableOfType(() -> viaLink.fetch(uri("link-root/../outside/gone.jpg")),
                MediaException.class);
        assertThat(escape.kind()).isEqualTo(MediaException.Kind.FORBIDDEN);
    }
}
