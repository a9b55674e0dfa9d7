package dev.biometry.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The size caps of {@link InputLimits} as {@link InputParser} applies them: each exceeded cap is a dead letter with
 * error 4 naming the field, the value at the cap passes; echoed strings and dead-letter payloads stay short; ids and
 * other strings must be valid Unicode.
 */
class InputLimitsTest {

    private static final SourceRef MEDIA = new SourceRef("biometry.media", 0, 7);
    private static final SourceRef REQUESTS = new SourceRef("biometry.requests", 1, 9);
    private static final InputLimits SMALL = new InputLimits(64, 10, 3, 4, 100);

    @Test
    void metaDataAtTheCapPassesAndOneByteMoreIsRefused() {
        // {"k":"..."} is 8 bytes plus the value.
        String atCap = "{\"k\":\"" + "x".repeat(64 - 8) + "\"}";
        assertThat(media("\"meta_data\":" + atCap).isOk()).isTrue();
        DeadLetter refused =
                media("\"meta_data\":{\"k\":\"" + "x".repeat(64 - 7) + "\"}").deadLetter();
        assertThat(refused.errorCode()).isEqualTo(OzError.INVALID_VALUE);
        assertThat(refused.details()).isEqualTo("meta_data");
        assertThat(refused.errorMessage())
                .isEqualTo("INVALID VALUE: meta_data is 65 bytes as JSON; at most 64 are allowed");

        DeadLetter analysisMeta = request(
                        "\"analyses\":[{\"type\":\"biometry\",\"meta_data\":{\"k\":\"" + "é".repeat(40) + "\"}}]")
                .deadLetter();
        assertThat(analysisMeta.details()).isEqualTo("analyses[0].meta_data");
        assertThat(analysisMeta.errorMessage()).contains("88 bytes");
    }

    @Test
    void originalNameUriTagsAndEndpointAreCapped() {
        assertThat(media("\"original_name\":\"abcdefghij\"").isOk()).isTrue();
        assertThat(media("\"original_name\":\"abcdefghijk\"").deadLetter().details())
                .isEqualTo("original_name");

        String longUri = "file:///" + "u".repeat(InputLimits.MAX_URI_CHARS);
        DeadLetter uri = InputParser.parseMedia(
                        ("{\"folder_id\":\"f\",\"media_id\":\"m\",\"media_type\":\"IMAGE_FOLDER\"," + "\"uri\":\""
                                        + longUri + "\"}")
                                .getBytes(StandardCharsets.UTF_8),
                        MEDIA,
                        SMALL)
                .deadLetter();
        assertThat(uri.details()).isEqualTo("uri");
        assertThat(uri.errorMessage()).hasSizeLessThan(100);

        String tags = "\"tags\":[" + "\"t\",".repeat(InputLimits.MAX_TAGS) + "\"t\"]";
        assertThat(media(tags).deadLetter().details()).isEqualTo("tags");
        assertThat(media("\"tags\":[\"" + "t".repeat(InputLimits.MAX_TAG_CHARS + 1) + "\"]")
                        .deadLetter()
                        .details())
                .isEqualTo("tags[0]");

        DeadLetter endpoint = request("\"analyses\":[{\"type\":\"biometry\"}],\"resolution_endpoint\":\"https://h/"
                        + "p".repeat(InputLimits.MAX_URI_CHARS) + "\"")
                .deadLetter();
        assertThat(endpoint.details()).isEqualTo("resolution_endpoint");
    }

    @Test
    void sourceMediaAndInlineMediaAreCapped() {
        assertThat(request("\"analyses\":[{\"type\":\"biometry\",\"source_media\":[\"a\",\"b\",\"c\",\"a\"]}]")
                        .isOk())
                .as("three distinct ids, one repeated")
                .isTrue();
        DeadLetter four = request("\"analyses\":[{\"type\":\"biometry\",\"source_media\":[\"a\",\"b\",\"c\",\"d\"]}]")
                .deadLetter();
        assertThat(four.errorCode()).isEqualTo(OzError.INVALID_VALUE);
        assertThat(four.details()).isEqualTo("analyses[0].source_media");
        assertThat(four.errorMessage()).contains("at most 3");

        String oneMedia = "{\"media_id\":\"%s\",\"media_type\":\"IMAGE_FOLDER\",\"uri\":\"file:///x\"}";
        String fiveMedia = String.join(
                ",",
                List.of("a", "b", "c", "d", "e").stream()
                        .map(oneMedia::formatted)
                        .toList());
        DeadLetter five = request("\"analyses\":[{\"type\":\"biometry\"}],\"media\":[" + fiveMedia + "]")
                .deadLetter();
        assertThat(five.details()).isEqualTo("media");
        assertThat(five.errorMessage()).contains("5 media").contains("at most 4");
    }

    @Test
    void anEchoedTypeValueIsAShortExcerptAndTheDeadLetterPayloadIsCut() throws Exception {
        String huge = "x".repeat(600_000);
        DeadLetter deadLetter = InputParser.parseRequest(
                        ("{\"folder_id\":\"f\",\"analyses\":[{\"type\":\"" + huge + "\"}]}")
                                .getBytes(StandardCharsets.UTF_8),
                        REQUESTS,
                        0L,
                        () -> "id",
                        InputLimits.DEFAULTS)
                .deadLetter();

        assertThat(deadLetter.errorMessage()).hasSizeLessThan(200).contains("(600000 chars)");
        assertThat(deadLetter.payloadTruncated()).isTrue();
        assertThat(deadLetter.payload()).hasSize(InputLimits.DEFAULTS.maxDeadLetterPayloadBytes());
        JsonNode json = Json.mapper().readTree(InputParser.toJson(deadLetter));
        assertThat(json.get("payload_truncated").booleanValue()).isTrue();
        assertThat(InputParser.toJson(deadLetter).length()).isLessThan(70_000);
    }

    @Test
    void aCutPayloadNeverSplitsACharacterAndABase64PayloadIsCutBeforeEncoding() {
        DeadLetter text = new DeadLetter(3, "m", null, "t", 0, 0, "aé€😀".repeat(100), false);
        DeadLetter cut = text.withPayloadCapped(101);
        assertThat(cut.payloadTruncated()).isTrue();
        assertThat(DeadLetter.utf8Length(cut.payload())).isLessThanOrEqualTo(101);
        assertThat(text.payload()).startsWith(cut.payload());
        assertThat(Character.isHighSurrogate(cut.payload().charAt(cut.payload().length() - 1)))
                .isFalse();

        byte[] raw = new byte[1000];
        for (int i = 0; i < raw.length; i++) {
            raw[i] = (byte) (0x80 + i % 64);
        }
        DeadLetter binary = InputParser.parseMedia(raw, MEDIA, SMALL).deadLetter();
        assertThat(binary.payloadBase64()).isTrue();
        assertThat(binary.payloadTruncated()).isTrue();
        assertThat(binary.payload().length()).isLessThanOrEqualTo(100);
        byte[] decoded = Base64.getDecoder().decode(binary.payload());
        assertThat(raw).startsWith(decoded);

        DeadLetter small = new DeadLetter(3, "m", null, "t", 0, 0, "short", false);
        assertThat(small.withPayloadCapped(100)).isSameAs(small);
    }

    @ParameterizedTest
    @ValueSource(strings = {"folder_id", "media_id"})
    void aLoneSurrogateInAnIdIsRefusedNamingTheField(String field) {
        String json = "{\"folder_id\":\"f\",\"media_id\":\"m\",\"media_type\":\"IMAGE_FOLDER\",\"uri\":\"file:///x\"}"
                .replace(
                        "\"" + field + "\":\"" + (field.equals("folder_id") ? "f" : "m") + "\"",
                        "\"" + field + "\":\"id\\ud800\"");
        DeadLetter deadLetter = InputParser.parseMedia(json.getBytes(StandardCharsets.UTF_8), MEDIA)
                .deadLetter();

        assertThat(deadLetter.errorCode()).isEqualTo(OzError.INVALID_VALUE);
        assertThat(deadLetter.details()).isEqualTo(field);
        assertThat(deadLetter.errorMessage())
                .isEqualTo("INVALID VALUE: " + field + " must be valid Unicode: lone UTF-16 surrogate at index 2");
    }

    @Test
    void loneSurrogatesAreRefusedInAnalyseIdsSourceMediaAndMetaDataButPairsPass() {
        assertThat(request("\"analyses\":[{\"type\":\"biometry\",\"analyse_id\":\"\\udc00x\"}]")
                        .deadLetter()
                        .details())
                .isEqualTo("analyses[0].analyse_id");
        assertThat(request("\"analyses\":[{\"type\":\"biometry\",\"source_media\":[\"a\",\"b\\ud83d\"]}]")
                        .deadLetter()
                        .details())
                .isEqualTo("analyses[0].source_media[1]");
        assertThat(request("\"analyses\":[{\"type\":\"biometry\",\"meta_data\":{\"\\ud800\":1}}]")
                        .deadLetter()
                        .details())
                .isEqualTo("analyses[0].meta_data");
        // A valid pair (U+1F600) is fine.
        assertThat(request("\"analyses\":[{\"type\":\"biometry\",\"analyse_id\":\"\\ud83d\\ude00\"}]")
                        .value()
                        .analyses()[0]
                        .analyseId())
                .isEqualTo("😀");
    }

    @Test
    void excerptsAndIdListsStayShort() {
        assertThat(Excerpt.of("abc", 5)).isEqualTo("abc");
        assertThat(Excerpt.of("abcdefgh", 5)).isEqualTo("abcde... (8 chars)");
        assertThat(Excerpt.of("abcd😀", 5)).isEqualTo("abcd... (6 chars)");
        assertThat(Excerpt.list(List.of("a", "b", "c"), 2)).isEqualTo("[a, b, ... and 1 more]");
        assertThat(Excerpt.list(List.of("a"), 2)).isEqualTo("[a]");
        assertThat(Excerpt.loneSurrogate("ok😀")).isEqualTo(-1);
        assertThat(Excerpt.loneSurrogate("\ud83d")).isZero();
    }

    @Test
    void theRequestRemembersItsSourceRecordAndTwoRequestsNeverShareAToken() {
        AnalysisRequest first = InputParser.parseRequest(
                        "{\"folder_id\":\"f\",\"analyses\":[{\"type\":\"biometry\",\"analyse_id\":\"a\"}]}"
                                .getBytes(StandardCharsets.UTF_8),
                        REQUESTS,
                        5L,
                        () -> "x",
                        SMALL)
                .value()
                .analyses()[0];
        AnalysisRequest second = InputParser.parseRequest(
                        "{\"folder_id\":\"g\",\"analyses\":[{\"type\":\"biometry\",\"analyse_id\":\"a\"}]}"
                                .getBytes(StandardCharsets.UTF_8),
                        new SourceRef("biometry.requests", 1, 10),
                        5L,
                        () -> "x",
                        SMALL)
                .value()
                .analyses()[0];
        assertThat(first.source()).isEqualTo(REQUESTS);
        assertThat(first.token()).isNotEqualTo(second.token());
    }

    private static ParseResult<MediaRef> media(String extraFields) {
        return InputParser.parseMedia(
                ("{\"folder_id\":\"f\",\"media_id\":\"m\",\"media_type\":\"IMAGE_FOLDER\"," + "\"uri\":\"file:///x\","
                                + extraFields + "}")
                        .getBytes(StandardCharsets.UTF_8),
                MEDIA,
                SMALL);
    }

    private static ParseResult<RequestEnvelope> request(String fields) {
        return InputParser.parseRequest(
                ("{\"folder_id\":\"f\"," + fields + "}").getBytes(StandardCharsets.UTF_8),
                REQUESTS,
                1L,
                () -> "generated",
                SMALL);
    }
}
