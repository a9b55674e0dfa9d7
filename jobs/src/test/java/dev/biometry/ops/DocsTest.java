package dev.biometry.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The README is a short front page that links every page of {@code docs/} and never points outside the
 * repository; every relative link of the README, the docs and the model card resolves to a file of the repository
 * (and, for {@code file.md#anchor}, to a heading of that file).
 */
class DocsTest {

    static final Path ROOT =
            Path.of(System.getProperty("user.dir")).resolve("..").normalize();
    static final int README_MAX_LINES = 150;

    /** {@code [text](target)} and {@code ![alt](target)}; the target up to the first space or closing parenthesis. */
    private static final Pattern LINK = Pattern.compile("!?\\[[^\\]]*\\]\\(([^)\\s]+)(?:\\s+\"[^\"]*\")?\\)");

    @Test
    void theReadmeIsShortAndLinksEveryPageOfTheDocs() throws Exception {
        Path readme = ROOT.resolve("README.md");
        List<String> lines = Files.readAllLines(readme);
        assertThat(lines.size()).as("lines of %s", readme).isLessThan(README_MAX_LINES);

        Set<Path> linked = new HashSet<>();
        for (String target : links(String.join("\n", lines))) {
            if (!hasScheme(target) && !target.startsWith("#")) {
                linked.add(resolve(readme, target));
            }
        }
        List<Path> pages;
        try (Stream<Path> files = Files.list(ROOT.resolve("docs"))) {
            pages = files.filter(f -> f.getFileName().toString().endsWith(".md"))
                    .sorted()
                    .toList();
        }
        assertThat(pages).as("pages in docs/").isNotEmpty();
        assertThat(linked).as("files linked from README.md").containsAll(pages);
    }

    @Test
    void theReadmeNeverPointsOutsideTheRepository() throws Exception {
        Path readme = ROOT.resolve("README.md");
        String text = Files.readString(readme);
        for (String target : links(text)) {
            assertThat(hasScheme(target))
                    .as("README link %s leaves the repository", target)
                    .isFalse();
            if (!target.startsWith("#")) {
                assertThat(resolve(readme, target)).as("README link %s", target).startsWith(ROOT);
            }
        }
        assertThat(text).as("README mentions a path outside the repository").doesNotContain("../");
    }

    @Test
    void everyRelativeLinkOfTheDocsResolves() throws Exception {
        List<Path> documents = new ArrayList<>(List.of(ROOT.resolve("README.md"), ROOT.resolve("models/README.md")));
        try (Stream<Path> files = Files.list(ROOT.resolve("docs"))) {
            files.filter(f -> f.getFileName().toString().endsWith(".md"))
                    .sorted()
                    .forEach(documents::add);
        }
        List<String> broken = new ArrayList<>();
        for (Path doc : documents) {
            for (String target : links(Files.readString(doc))) {
                if (hasScheme(target)) {
                    continue;
                }
                int hash = target.indexOf('#');
                String file = hash < 0 ? target : target.substring(0, hash);
                String anchor = hash < 0 ? null : target.substring(hash + 1);
                Path resolved = file.isEmpty() ? doc : resolve(doc, file);
                if (!resolved.startsWith(ROOT) || !Files.exists(resolved)) {
                    broken.add(ROOT.relativize(doc) + ": " + target + " (no such file in the repository)");
                } else if (anchor != null
                        && resolved.toString().endsWith(".md")
                        && !anchors(resolved).contains(anchor)) {
                    broken.add(ROOT.relativize(doc) + ": " + target + " (no such heading)");
                }
            }
        }
        assertThat(broken).as("broken links").isEmpty();
    }

    @Test
    void headingAnchorsFollowGithubsRule() {
        assertThat(slug("The cluster harness (cluster/) and this configuration"))
                .isEqualTo("the-cluster-harness-cluster-and-this-configuration");
        assertThat(slug("Soak: hostile inputs for half an hour")).isEqualTo("soak-hostile-inputs-for-half-an-hour");
        assertThat(slug("HTTP API (Oz REST)")).isEqualTo("http-api-oz-rest");
    }

    static List<String> links(String markdown) {
        List<String> targets = new ArrayList<>();
        Matcher m = LINK.matcher(withoutCodeBlocks(markdown));
        while (m.find()) {
            targets.add(m.group(1));
        }
        return targets;
    }

    /** The text without fenced code blocks, where brackets and parentheses are code, not links. */
    private static String withoutCodeBlocks(String markdown) {
        StringBuilder sb = new StringBuilder();
        boolean inCode = false;
        for (String line : markdown.split("\n", -1)) {
            if (line.startsWith("```")) {
                inCode = !inCode;
            } else if (!inCode) {
                sb.append(line).append('\n');
            }
        }
        return sb.toString();
    }

    private static boolean hasScheme(String target) {
        return target.matches("^[a-zA-Z][a-zA-Z0-9+.-]*:.*");
    }

    private static Path resolve(Path doc, String target) {
        return doc.getParent()
                .resolve(URI.create(target.replace(" ", "%20")).getPath())
                .normalize();
    }

    /** GitHub's anchors of the headings of a Markdown file (a repeated heading gets -1, -2, ...). */
    private static Set<String> anchors(Path file) throws IOException {
        Set<String> anchors = new HashSet<>();
        Map<String, Integer> seen = new HashMap<>();
        for (String line : withoutCodeBlocks(Files.readString(file)).split("\n")) {
            if (line.matches("^#{1,6} .*")) {
                String slug = slug(line.replaceFirst("^#+ ", ""));
                int n = seen.merge(slug, 1, Integer::sum);
                anchors.add(n == 1 ? slug : slug + "-" + (n - 1));
            }
        }
        return anchors;
    }

    /** GitHub's heading anchor: lower case, punctuation other than '-' and '_' dropped, spaces as '-'. */
    static String slug(String heading) {
        return heading.trim()
                .toLowerCase(Locale.ROOT)
                .replaceAll("[^\\p{L}\\p{N} _-]", "")
                .replace(' ', '-');
    }
}
