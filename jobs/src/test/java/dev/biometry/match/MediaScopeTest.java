package dev.biometry.match;

import static org.assertj.core.api.Assertions.assertThat;

import dev.biometry.api.AnalysisRequest;
import dev.biometry.api.MediaRef;
import dev.biometry.api.MediaType;
import dev.biometry.api.OzError;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which media an analysis compares and whether it can start, as plain Java. */
class MediaScopeTest {

    private final Map<String, MediaRef> known = new LinkedHashMap<>();
    private final MediaScope.Folder folder = new MediaScope.Folder() {
        @Override
        public MediaRef get(String mediaId) {
            return known.get(mediaId);
        }

        @Override
        public List<MediaRef> inArrivalOrder() {
            return List.copyOf(known.values());
        }
    };

    @Test
    void withoutSourceMediaEveryMediaInArrivalOrderElseTheNamedOnesInTheirOrder() throws Exception {
        add("b", "photo_selfie");
        add("a", "photo_id_front");
        add("c", "photo_selfie");

        assertThat(ids(MediaScope.of(request(null), folder))).containsExactly("b", "a", "c");
        assertThat(ids(MediaScope.of(request(new String[] {"c", "x", "b"}), folder)))
                .containsExactly("c", "b");
        assertThat(MediaScope.missing(request(new String[] {"c", "x", "b", "y"}), folder))
                .containsExactly("x", "y");
        assertThat(MediaScope.missing(request(null), folder)).isEmpty();
    }

    @Test
    void theBackOfAnIdDocumentIsNotEligible() throws Exception {
        add("selfie", "photo_selfie");
        add("front", "photo_id_front");
        add("back", "photo_id_back");

        List<MediaRef> scope = MediaScope.of(request(null), folder);

        assertThat(ids(MediaScope.eligible(scope))).containsExactly("selfie", "front");
    }

    @Test
    void anAnalysisNeedsTwoToTheMostAllowedEligibleMedia() throws Exception {
        add("selfie", "photo_selfie");
        add("back", "photo_id_back");
        AnalysisRequest all = request(null);
        List<MediaRef> scope = MediaScope.of(all, folder);

        OzError tooFew = MediaScope.check(all, scope, MediaScope.eligible(scope), 10);

        assertThat(tooFew.code()).isEqualTo(OzError.INVALID_VALUE);
        assertThat(tooFew.message())
                .isEqualTo(
                        "biometry needs at least two eligible media; folder f has 1 (1 tagged photo_id_back ignored)");

        add("front", "photo_id_front");
        add("another", "photo_selfie");
        scope = MediaScope.of(all, folder);
        List<MediaRef> eligible = MediaScope.eligible(scope);
        assertThat(MediaScope.check(all, scope, eligible, 3)).isNull();
        assertThat(MediaScope.check(all, scope, eligible, 2).message())
                .startsWith("biometry compares at most 2 media per analysis; folder f has 3 eligible media");
        assertThat(ids(MediaScope.bounded(eligible, 2))).containsExactly("selfie", "front");
    }

    private void add(String id, String tag) {
        known.put(id, new MediaRef("f", id, MediaType.IMAGE_FOLDER, new String[] {tag}, "file:///m/" + id, null, null));
    }

    private static AnalysisRequest request(String[] sourceMedia) {
        return new AnalysisRequest("f", "an-1", sourceMedia, null, null, null, null, 0L);
    }

    private static List<String> ids(List<MediaRef> media) {
        return media.stream().map(MediaRef::mediaId).toList();
    }
}
