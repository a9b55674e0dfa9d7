package dev.biometry.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.biometry.api.AnalysisRequest;
import dev.biometry.api.DeadLetter;
import dev.biometry.api.Excerpt;
import dev.biometry.api.InputLimits;
import dev.biometry.api.InputParser;
import dev.biometry.api.Json;
import dev.biometry.api.MediaRef;
import dev.biometry.api.RequestEnvelope;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.streaming.api.operators.ProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * Seeded fuzzing of the two parse operators: thousands of mutated media and request messages (byte flips,
 * truncations, huge strings, deep nesting, huge numbers, wrong types, lone surrogates, duplicated keys, long arrays,
 * invalid UTF-8, oversized messages) go through {@link ParseFunctions.Media} and {@link ParseFunctions.Requests} in
 * operator harnesses. No exception may escape, every record comes out exactly once (parsed or dead letter), every
 * parsed value is within the caps and every dead letter's JSON within its bound. The seed is fixed, so a failure
 * is reproducible; it names the case.
 */
class ParseFuzzTest {

    private static final long SEED = 20261201L;
    private static final int CASES_PER_TOPIC = 3_000;
    private static final InputLimits LIMITS = new InputLimits(512, 40, 5, 8, 2_048);

    /** A dead letter's JSON: its payload (at most 6 bytes per byte once escaped) plus short texts and the frame. */
    private static final int MAX_DEAD_LETTER_CHARS = 6 * LIMITS.maxDeadLetterPayloadBytes() + 4_096;

    private static final String[] MEDIA_SEEDS = {
        "{\"folder_id\":\"f-1\",\"media_id\":\"m-1\",\"media_type\":\"IMAGE_FOLDER\",\"tags\":[\"photo_selfie\"],"
                + "\"uri\":\"file:///data/f-1/a.jpg\",\"original_name\":\"a.jpg\",\"meta_data\":{\"source\":\"mobile\"}}",
        "{\"folder_id\":\"f-2\",\"media_id\":\"v\",\"media_type\":\"VIDEO_FOLDER\",\"uri\":\"https://cdn.example.com/v.mp4\"}",
    };

    private static final String[] REQUEST_SEEDS = {
        "{\"folder_id\":\"f-1\",\"analyses\":[{\"type\":\"biometry\",\"analyse_id\":\"a-1\",\"source_media\":[\"m-1\",\"m-2\"],"
                + "\"params\":{\"threshold\":0.85,\"threshold_min\":0.6},\"meta_data\":{\"case\":42}}],"
                + "\"resolution_endpoint\":\"https://example.com/hooks\","
                + "\"media\":[{\"media_id\":\"m-2\",\"media_type\":\"IMAGE_FOLDER\",\"tags\":[\"photo_id\",\"photo_id_front\"],"
                + "\"uri\":\"file:///data/f-1/p.jpg\"}]}",
        "{\"folder_id\":\"f-3\",\"analyses\":[{\"type\":\"BIOMETRY\"},{\"type\":\"biometry\",\"analysis_id\":\"x\"}]}",
    };

    @Test
    void mutatedMediaMessagesNeverThrowAndStayBounded() throws Exception {
        int[] outcome = fuzz(
                new ParseFunctions.Media(LIMITS),
                MEDIA_SEEDS,
                "biometry.media",
                new Random(SEED),
                media -> assertMediaBounded((MediaRef) media));
        assertThat(outcome[0]).as("some mutations still parse").isPositive();
        assertThat(outcome[1]).as("most mutations are refused").isGreaterThan(CASES_PER_TOPIC / 2);
    }

    @Test
    void mutatedRequestMessagesNeverThrowAndStayBounded() throws Exception {
        int[] outcome = fuzz(
                new ParseFunctions.Requests(LIMITS),
                REQUEST_SEEDS,
                "biometry.requests",
                new Random(SEED + 1),
                request -> {
                    RequestEnvelope envelope = (RequestEnvelope) request;
                    assertThat(envelope.media().length).isLessThanOrEqualTo(LIMITS.maxMediaPerFolder());
                    for (MediaRef m : envelope.media()) {
                        assertMediaBounded(m);
                    }
                    for (AnalysisRequest a : envelope.analyses()) {
                        assertIdBounded(a.analyseId());
                        assertThat(a.sourceMedia() == null ? 0 : a.sourceMedia().length)
                                .isLessThanOrEqualTo(LIMITS.maxMediaPerAnalysis());
                        assertMetaBounded(a.metaDataJson());
                        assertThat(
                                        a.resolutionEndpoint() == null
                                                ? 0
                                                : a.resolutionEndpoint().length())
                                .isLessThanOrEqualTo(InputLimits.MAX_URI_CHARS);
                    }
                });
        assertThat(outcome[0]).isPositive();
        assertThat(outcome[1]).isGreaterThan(CASES_PER_TOPIC / 2);
    }

    private interface Check {
        void accept(Object parsed) throws Exception;
    }

    /** Runs the cases through {@code step}; returns {parsed, dead letters}. */
    private static <T> int[] fuzz(
            ProcessFunction<RawRecord, T> step, String[] seeds, String topic, Random random, Check check)
            throws Exception {
        try (var harness = new OneInputStreamOperatorTestHarness<>(new ProcessOperator<>(step))) {
            harness.open();
            for (int i = 0; i < CASES_PER_TOPIC; i++) {
                byte[] value = mutate(seeds[random.nextInt(seeds.length)], random);
                try {
                    harness.processElement(new StreamRecord<>(new RawRecord(topic, 0, i, null, value)));
                } catch (Throwable t) {
                    throw new AssertionError("case " + i + " threw on " + describe(value), t);
                }
            }
            List<T> parsed = harness.extractOutputValues();
            List<DeadLetter> deadLetters = new ArrayList<>();
            var side = harness.getSideOutput(ParseFunctions.DEAD_LETTERS);
            if (side != null) {
                side.forEach(r -> deadLetters.add(r.getValue()));
            }
            assertThat(parsed.size() + deadLetters.size())
                    .as("every case comes out once")
                    .isEqualTo(CASES_PER_TOPIC);
            for (T value : parsed) {
                check.accept(value);
            }
            for (DeadLetter d : deadLetters) {
                assertThat(d.errorCode()).isIn(3, 4, 5);
                assertThat(d.errorMessage()).hasSizeLessThan(600);
                assertThat(d.details() == null ? 0 : d.details().length()).isLessThan(600);
                if (d.payload() != null && !d.payloadBase64()) {
                    assertThat(DeadLetter.utf8Length(d.payload()))
                            .isLessThanOrEqualTo(LIMITS.maxDeadLetterPayloadBytes());
                }
                String json = InputParser.toJson(d);
                assertThat(json.length()).as(d.errorMessage()).isLessThanOrEqualTo(MAX_DEAD_LETTER_CHARS);
                assertThat(Json.mapper().readTree(json).get("error_code").asInt())
                        .isEqualTo(d.errorCode());
            }
            return new int[] {parsed.size(), deadLetters.size()};
        }
    }

    private static void assertMediaBounded(MediaRef m) {
        assertIdBounded(m.folderId());
        assertIdBounded(m.mediaId());
        assertThat(m.uri().length()).isLessThanOrEqualTo(InputLimits.MAX_URI_CHARS);
        assertThat(m.originalName() == null ? 0 : m.originalName().length())
                .isLessThanOrEqualTo(LIMITS.maxOriginalNameChars());
        assertThat(m.tags().length).isLessThanOrEqualTo(InputLimits.MAX_TAGS);
        for (String tag : m.tags()) {
            assertThat(tag.length()).isLessThanOrEqualTo(InputLimits.MAX_TAG_CHARS);
            assertThat(Excerpt.loneSurrogate(tag)).isNegative();
        }
        assertMetaBounded(m.metaDataJson());
    }

    private static void assertIdBounded(String id) {
        assertThat(id.length()).isBetween(1, InputParser.MAX_ID_LENGTH);
        assertThat(Excerpt.loneSurrogate(id)).as("lone surrogate in " + id).isNegative();
    }

    private static void assertMetaBounded(String metaDataJson) {
        if (metaDataJson != null) {
            assertThat(DeadLetter.utf8Length(metaDataJson)).isLessThanOrEqualTo(LIMITS.maxMetaDataBytes());
            assertThat(Excerpt.loneSurrogate(metaDataJson)).isNegative();
        }
    }

    // ---- mutations

    /** One to three mutations of a seed message, at the JSON level (on its tree) or the byte level. */
    static byte[] mutate(String seed, Random random) throws Exception {
        String text = seed;
        int rounds = 1 + random.nextInt(3);
        for (int r = 0; r < rounds; r++) {
            text = random.nextInt(3) == 0 ? textMutation(text, random) : treeMutation(text, random);
        }
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        return random.nextInt(6) == 0 ? byteMutation(bytes, random) : bytes;
    }

    private static String treeMutation(String text, Random random) throws Exception {
        JsonNode root;
        try {
            root = Json.mapper().readTree(text);
        } catch (Exception e) {
            return textMutation(text, random);
        }
        if (root == null || !root.isContainerNode()) {
            return textMutation(text, random);
        }
        List<JsonNode> containers = new ArrayList<>();
        collect(root, containers);
        JsonNode parent = containers.get(random.nextInt(containers.size()));
        JsonNode replacement = hostileValue(random);
        if (parent instanceof ObjectNode object) {
            List<String> names = new ArrayList<>();
            object.fieldNames().forEachRemaining(names::add);
            String name = names.isEmpty() || random.nextInt(4) == 0
                    ? hostileName(random)
                    : names.get(random.nextInt(names.size()));
            if (random.nextInt(8) == 0) {
                object.remove(name);
            } else {
                object.set(name, replacement);
            }
        } else if (parent instanceof ArrayNode array) {
            if (array.isEmpty() || random.nextBoolean()) {
                array.add(replacement);
            } else {
                array.set(random.nextInt(array.size()), replacement);
            }
        }
        return escapeSurrogates(root.toString());
    }

    /** Jackson writes surrogate chars as they are; as JSON escapes they reach the parser as surrogates. */
    private static String escapeSurrogates(String json) {
        StringBuilder sb = new StringBuilder(json.length());
        for (int i = 0; i < json.length(); i++) {
            char c = json.charAt(i);
            if (Character.isSurrogate(c)) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    private static void collect(JsonNode node, List<JsonNode> containers) {
        if (node.isContainerNode()) {
            containers.add(node);
            node.elements().forEachRemaining(child -> collect(child, containers));
        }
    }

    private static String hostileName(Random random) {
        String[] names = {
            "folder_id",
            "media_id",
            "analyse_id",
            "analysis_id",
            "type",
            "uri",
            "tags",
            "meta_data",
            "original_name",
            "source_media",
            "params",
            "threshold",
            "threshold_min",
            "media",
            "analyses",
            "resolution_endpoint",
            "media_type"
        };
        return names[random.nextInt(names.length)];
    }

    private static JsonNode hostileValue(Random random) {
        var f = Json.mapper().getNodeFactory();
        return switch (random.nextInt(16)) {
            case 0 -> f.textNode("x".repeat(1 + random.nextInt(300_000)));
            case 1 -> f.textNode("id\ud800");
            case 2 -> f.textNode("\udc00" + "é".repeat(random.nextInt(100)));
            case 3 -> f.numberNode(new java.math.BigDecimal("1e" + (300 + random.nextInt(100_000))));
            case 4 -> f.numberNode(new java.math.BigInteger("9".repeat(1 + random.nextInt(900))));
            case 5 -> f.numberNode(random.nextGaussian() * 1e6);
            case 6 -> f.booleanNode(random.nextBoolean());
            case 7 -> f.nullNode();
            case 8 -> {
                ArrayNode array = f.arrayNode();
                int n = random.nextInt(5_000);
                for (int i = 0; i < n; i++) {
                    array.add("m" + i);
                }
                yield array;
            }
            case 9 -> {
                ObjectNode object = f.objectNode();
                int n = random.nextInt(1_000);
                for (int i = 0; i < n; i++) {
                    object.put("k" + i, "v".repeat(random.nextInt(50)));
                }
                yield object;
            }
            case 10 -> f.textNode("\u0000\u0001\t\n" + "../".repeat(random.nextInt(50)));
            case 11 -> f.textNode("biometry");
            case 12 ->
                f.textNode(new String[] {"IMAGE_FOLDER", "VIDEO_FOLDER", "SHOTS_SET", "HOLOGRAM"}[random.nextInt(4)]);
            case 13 ->
                f.textNode(
                        random.nextBoolean()
                                ? "file:///" + "d/".repeat(random.nextInt(3_000))
                                : "https://h/" + "p".repeat(random.nextInt(6_000)));
            case 14 -> {
                ArrayNode array = f.arrayNode();
                array.add("a").add("b").add(f.objectNode().put("media_id", "c"));
                yield array;
            }
            default -> f.textNode("ok-" + random.nextInt(1000));
        };
    }

    private static String textMutation(String text, Random random) {
        int at = text.isEmpty() ? 0 : random.nextInt(text.length());
        return switch (random.nextInt(7)) {
            case 0 -> text.substring(0, at);
            case 1 -> text.substring(0, at) + "[".repeat(1_100 + random.nextInt(3_000)) + text.substring(at);
            case 2 -> text.replaceFirst("\\{", "{\"folder_id\":\"dup\",\"folder_id\":\"" + random.nextInt() + "\",");
            case 3 -> text.substring(0, at) + "\\ud800" + text.substring(at);
            case 4 -> text.substring(0, at) + text.substring(at / 2);
            case 5 -> "{\"a\":" + "{\"b\":".repeat(500 + random.nextInt(1_500)) + "1" + "}".repeat(10) + text;
            default -> text + " " + text;
        };
    }

    private static byte[] byteMutation(byte[] bytes, Random random) {
        switch (random.nextInt(4)) {
            case 0 -> {
                for (int i = 0; i < 1 + random.nextInt(8) && bytes.length > 0; i++) {
                    bytes[random.nextInt(bytes.length)] ^= (byte) (1 << random.nextInt(8));
                }
                return bytes;
            }
            case 1 -> {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                out.writeBytes(bytes);
                out.writeBytes(new byte[] {(byte) 0xC3, 0x28, (byte) 0xFF, (byte) 0xED, (byte) 0xA0, (byte) 0x80});
                return out.toByteArray();
            }
            case 2 -> {
                // Over the 1 MiB message limit.
                byte[] big = new byte[InputParser.MAX_MESSAGE_BYTES + 1 + random.nextInt(1_000)];
                System.arraycopy(bytes, 0, big, 0, Math.min(bytes.length, big.length));
                return big;
            }
            default -> {
                return random.nextBoolean()
                        ? new byte[0]
                        : java.util.Arrays.copyOf(bytes, random.nextInt(bytes.length + 1));
            }
        }
    }

    private static String describe(byte[] value) {
        return value.length + " bytes: " + Excerpt.of(new String(value, StandardCharsets.UTF_8), 300);
    }
}
