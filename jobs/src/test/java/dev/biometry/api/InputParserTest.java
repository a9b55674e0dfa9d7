package dev.biometry.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class InputParserTest {

    private static final SourceRef MEDIA_SOURCE = new SourceRef("biometry.media", 2, 41);
    private static final SourceRef REQUEST_SOURCE = new SourceRef("biometry.requests", 0, 12);
    private static final long NOW = 1_718_000_000_123L;
    private static final String FOLDER = "9b1f3a10-2c2d-4e4f-8a8b-1c1d1e1f2a2b";

    private final AtomicInteger generated = new AtomicInteger();
    private final Supplier<String> idGenerator = () -> "generated-" + generated.incrementAndGet();

    // ---- media topic -------------------------------------------------------------------------------------

    @Test
    void parsesValidMedia() {
        ParseResult<MediaRef> result = parseMedia("""
                {"folder_id": "%s", "media_id": "m1", "media_type": "VIDEO_FOLDER",
                 "tags": ["video_selfie", "orientation_portrait"], "uri": "file:///media/m1.mp4",
                 "original_name": "liveness.mp4", "meta_data": {"source": "mobile", "n": [1, 2]},
                 "unknown_field": 42}""".formatted(FOLDER));

        assertThat(result.isOk()).isTrue();
        MediaRef media = result.value();
        assertThat(media.folderId()).isEqualTo(FOLDER);
        assertThat(media.mediaId()).isEqualTo("m1");
        assertThat(media.mediaType()).isEqualTo(MediaType.VIDEO_FOLDER);
        assertThat(media.tags()).containsExactly("video_selfie", "orientation_portrait");
        assertThat(media.uri()).isEqualTo("file:///media/m1.mp4");
        assertThat(media.originalName()).isEqualTo("liveness.mp4");
        assertThat(media.metaDataJson()).isEqualTo("{\"source\":\"mobile\",\"n\":[1,2]}");
        assertThatThrownBy(result::deadLetter).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void mediaOptionalFieldsDefault() {
        MediaRef media = parseMedia("""
                {"folder_id": "f", "media_id": "m", "media_type": "SHOTS_SET", "uri": "s3://bucket/shots.zip",
                 "original_name": null, "meta_data": null}""").value();

        assertThat(media.tags()).isEmpty();
        assertThat(media.originalName()).isNull();
        assertThat(media.metaDataJson()).isNull();
        assertThat(media.uri()).isEqualTo("s3://bucket/shots.zip");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            missing folder_id        | {"media_id":"m","media_type":"IMAGE_FOLDER","uri":"file:///a"}                                     | 3 | folder_id
            null media_id            | {"folder_id":"f","media_id":null,"media_type":"IMAGE_FOLDER","uri":"file:///a"}                   | 3 | media_id
            missing media_type       | {"folder_id":"f","media_id":"m","uri":"file:///a"}                                                | 3 | media_type
            missing uri              | {"folder_id":"f","media_id":"m","media_type":"IMAGE_FOLDER"}                                      | 3 | uri
            numeric folder_id        | {"folder_id":7,"media_id":"m","media_type":"IMAGE_FOLDER","uri":"file:///a"}                      | 5 | folder_id
            media_type not string    | {"folder_id":"f","media_id":"m","media_type":["IMAGE_FOLDER"],"uri":"file:///a"}                  | 5 | media_type
            tags not array           | {"folder_id":"f","media_id":"m","media_type":"IMAGE_FOLDER","uri":"file:///a","tags":"photo_id"}  | 5 | tags
            tags element not string  | {"folder_id":"f","media_id":"m","media_type":"IMAGE_FOLDER","uri":"file:///a","tags":["a",1]}     | 5 | tags[1]
            uri not string           | {"folder_id":"f","media_id":"m","media_type":"IMAGE_FOLDER","uri":{}}                             | 5 | uri
            original_name not string | {"folder_id":"f","media_id":"m","media_type":"IMAGE_FOLDER","uri":"file:///a","original_name":1}  | 5 | original_name
            meta_data not object     | {"folder_id":"f","media_id":"m","media_type":"IMAGE_FOLDER","uri":"file:///a","meta_data":"x"}    | 5 | meta_data
            meta_data array          | {"folder_id":"f","media_id":"m","media_type":"IMAGE_FOLDER","uri":"file:///a","meta_data":[]}     | 5 | meta_data
            unknown media_type       | {"folder_id":"f","media_id":"m","media_type":"AUDIO","uri":"file:///a"}                           | 4 | media_type
            lowercase media_type     | {"folder_id":"f","media_id":"m","media_type":"image_folder","uri":"file:///a"}                    | 4 | media_type
            blank folder_id          | {"folder_id":"  ","media_id":"m","media_type":"IMAGE_FOLDER","uri":"file:///a"}                   | 4 | folder_id
            empty media_id           | {"folder_id":"f","media_id":"","media_type":"IMAGE_FOLDER","uri":"file:///a"}                     | 4 | media_id
            control char in id       | {"folder_id":"f","media_id":"m\\u0007","media_type":"IMAGE_FOLDER","uri":"file:///a"}             | 4 | media_id
            blank uri                | {"folder_id":"f","media_id":"m","media_type":"IMAGE_FOLDER","uri":" "}                            | 4 | uri
            relative uri             | {"folder_id":"f","media_id":"m","media_type":"IMAGE_FOLDER","uri":"media/a.jpg"}                  | 4 | uri
            unparsable uri           | {"folder_id":"f","media_id":"m","media_type":"IMAGE_FOLDER","uri":"file:///a b.jpg"}              | 4 | uri
            """)
    void rejectsBadMedia(String caseName, String json, int expectedCode, String expectedDetails) {
        DeadLetter deadLetter = parseMedia(json).deadLetter();

        assertThat(deadLetter.errorCode()).isEqualTo(expectedCode);
        assertThat(deadLetter.details()).isEqualTo(expectedDetails);
        assertThat(deadLetter.errorMessage())
                .startsWith(errorName(expectedCode) + ": ")
                .contains(expectedDetails);
        assertThat(deadLetter.payload()).isEqualTo(json);
        assertThat(deadLetter.payloadBase64()).isFalse();
        assertThat(deadLetter.sourceTopic()).isEqualTo("biometry.media");
        assertThat(deadLetter.sourcePartition()).isEqualTo(2);
        assertThat(deadLetter.sourceOffset()).isEqualTo(41);
    }

    @Test
    void unknownMediaTypeMessageListsTheAllowedValues() {
        DeadLetter deadLetter = parseMedia(
                        "{\"folder_id\":\"f\",\"media_id\":\"m\",\"media_type\":\"AUDIO\",\"uri\":\"file:///a\"}")
                .deadLetter();

        assertThat(deadLetter.errorMessage())
                .isEqualTo("INVALID VALUE: media_type must be one of IMAGE_FOLDER, VIDEO_FOLDER, SHOTS_SET");
    }

    @Test
    void uriSchemeIsNotCheckedHere() {
        assertThat(parseMedia(
                                "{\"folder_id\":\"f\",\"media_id\":\"m\",\"media_type\":\"IMAGE_FOLDER\",\"uri\":\"gopher://x/y\"}")
                        .isOk())
                .isTrue();
    }

    @Test
    void idLengthLimitIs256Chars() {
        String longest = "a".repeat(InputParser.MAX_ID_LENGTH);
        String tooLong = longest + "a";
        String template =
                "{\"folder_id\":\"%s\",\"media_id\":\"m\",\"media_type\":\"IMAGE_FOLDER\",\"uri\":\"file:///a\"}";

        assertThat(parseMedia(template.formatted(longest)).value().folderId()).isEqualTo(longest);
        DeadLetter deadLetter = parseMedia(template.formatted(tooLong)).deadLetter();
        assertThat(deadLetter.errorCode()).isEqualTo(OzError.INVALID_VALUE);
        assertThat(deadLetter.details()).isEqualTo("folder_id");
        assertThat(deadLetter.errorMessage()).contains("256");
    }

    // ---- common envelope checks ----------------------------------------------------------------------------

    @Test
    void nullOrEmptyValueIsInvalidStructure() {
        DeadLetter nullValue = InputParser.parseMedia(null, MEDIA_SOURCE).deadLetter();
        DeadLetter emptyValue =
                InputParser.parseMedia(new byte[0], MEDIA_SOURCE).deadLetter();

        assertThat(nullValue.errorCode()).isEqualTo(OzError.INVALID_STRUCTURE);
        assertThat(nullValue.payload()).isNull();
        assertThat(nullValue.details()).isNull();
        assertThat(emptyValue.errorCode()).isEqualTo(OzError.INVALID_STRUCTURE);
        assertThat(emptyValue.payload()).isEmpty();
    }

    @Test
    void invalidUtf8IsInvalidStructureWithBase64Payload() {
        byte[] bytes = {'{', '"', 'a', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'};

        DeadLetter deadLetter = InputParser.parseRequest(bytes, REQUEST_SOURCE, NOW, idGenerator)
                .deadLetter();

        assertThat(deadLetter.errorCode()).isEqualTo(OzError.INVALID_STRUCTURE);
        assertThat(deadLetter.errorMessage()).contains("UTF-8");
        assertThat(deadLetter.payloadBase64()).isTrue();
        assertThat(Base64.getDecoder().decode(deadLetter.payload())).isEqualTo(bytes);
    }

    @Test
    void malformedJsonIsInvalidStructureWithShortReason() {
        DeadLetter deadLetter = parseMedia("{\"folder_id\": \"f\",, }").deadLetter();

        assertThat(deadLetter.errorCode()).isEqualTo(OzError.INVALID_STRUCTURE);
        assertThat(deadLetter.errorMessage())
                .startsWith("INVALID STRUCTURE: malformed JSON: Unexpected character")
                .contains("line 1, column")
                .doesNotContain("\n")
                .doesNotContain("\tat ")
                .doesNotContain("Exception");
        assertThat(deadLetter.details()).isNull();
        assertThat(deadLetter.payload()).isEqualTo("{\"folder_id\": \"f\",, }");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            {"a":1} {"b":2}
            `   `
            {"a":
            """)
    void trailingContentTruncationAndWhitespaceAreMalformedJson(String text) {
        DeadLetter deadLetter = parseMedia(text).deadLetter();

        assertThat(deadLetter.errorCode()).isEqualTo(OzError.INVALID_STRUCTURE);
        assertThat(deadLetter.errorMessage()).startsWith("INVALID STRUCTURE: malformed JSON: ");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            []
            "text"
            42
            null
            """)
    void topLevelMustBeAnObject(String text) {
        DeadLetter deadLetter = parseRequest(text).deadLetter();

        assertThat(deadLetter.errorCode()).isEqualTo(OzError.INVALID_STRUCTURE);
        assertThat(deadLetter.errorMessage()).isEqualTo("INVALID STRUCTURE: message must be a JSON object");
        assertThat(deadLetter.details()).isNull();
    }

    @Test
    void messagesOverOneMebibyteAreRejectedBeforeParsing() {
        String prefix = "{\"folder_id\":\"f\",\"media_id\":\"m\",\"media_type\":\"IMAGE_FOLDER\",\"uri\":\"file:///a\","
                + "\"meta_data\":{\"pad\":\"";
        String suffix = "\"}}";
        String atLimit =
                prefix + "x".repeat(InputParser.MAX_MESSAGE_BYTES - prefix.length() - suffix.length()) + suffix;
        assertThat(atLimit.getBytes(StandardCharsets.UTF_8)).hasSize(1024 * 1024);
        InputLimits bigMetaData = new InputLimits(2 << 20, 255, 100, 1000, 65536);
        assertThat(InputParser.parseMedia(atLimit.getBytes(StandardCharsets.UTF_8), MEDIA_SOURCE, bigMetaData)
                        .isOk())
                .isTrue();

        byte[] oversize = new byte[InputParser.MAX_MESSAGE_BYTES + 1];
        DeadLetter deadLetter = InputParser.parseMedia(oversize, MEDIA_SOURCE).deadLetter();
        assertThat(deadLetter.errorCode()).isEqualTo(OzError.INVALID_VALUE);
        assertThat(deadLetter.errorMessage()).contains("1048577").contains("1048576");
        assertThat(deadLetter.payload()).isNull();
        assertThat(deadLetter.sourceOffset()).isEqualTo(41);
    }

    // ---- requests topic ------------------------------------------------------------------------------------

    @Test
    void parsesRequestWithEveryOptionalField() {
        ParseResult<RequestEnvelope> result = parseRequest("""
                {"folder_id": "%s",
                 "resolution_endpoint": "https://hooks.example.com/oz?x=1",
                 "analyses": [{"type": "BIOMETRY", "analyse_id": "a1", "source_media": ["m1", "m2", "m1"],
                               "params": {"threshold": 0.9, "threshold_min": 0.75, "threshold_max": 0.85},
                               "meta_data": {"transaction_id": "t-1"}}],
                 "media": [{"folder_id": "%s", "media_id": "m1", "media_type": "IMAGE_FOLDER",
                            "tags": ["photo_id", "photo_id_front"], "uri": "file:///m1.jpg",
                            "original_name": "passport.jpg", "meta_data": {"k": "v"}},
                           {"media_id": "m2", "media_type": "VIDEO_FOLDER", "uri": "file:///m2.mp4"}],
                 "extra": true}""".formatted(FOLDER, FOLDER));

        assertThat(result.isOk()).isTrue();
        RequestEnvelope envelope = result.value();
        assertThat(envelope.folderId()).isEqualTo(FOLDER);
        assertThat(envelope.analyses()).hasSize(1);
        AnalysisRequest analysis = envelope.analyses()[0];
        assertThat(analysis.folderId()).isEqualTo(FOLDER);
        assertThat(analysis.analyseId()).isEqualTo("a1");
        assertThat(analysis.sourceMedia()).containsExactly("m1", "m2");
        assertThat(analysis.threshold()).isEqualTo(0.9);
        assertThat(analysis.thresholdMin()).isEqualTo(0.75);
        assertThat(analysis.metaDataJson()).isEqualTo("{\"transaction_id\":\"t-1\"}");
        assertThat(analysis.resolutionEndpoint()).isEqualTo("https://hooks.example.com/oz?x=1");
        assertThat(analysis.requestedAtMillis()).isEqualTo(NOW);

        assertThat(envelope.media()).hasSize(2);
        MediaRef photo = envelope.media()[0];
        assertThat(photo.folderId()).isEqualTo(FOLDER);
        assertThat(photo.mediaType()).isEqualTo(MediaType.IMAGE_FOLDER);
        assertThat(photo.tags()).containsExactly("photo_id", "photo_id_front");
        assertThat(photo.originalName()).isEqualTo("passport.jpg");
        assertThat(photo.metaDataJson()).isEqualTo("{\"k\":\"v\"}");
        MediaRef video = envelope.media()[1];
        assertThat(video.folderId()).as("inherited from the request").isEqualTo(FOLDER);
        assertThat(video.mediaId()).isEqualTo("m2");
        assertThat(video.tags()).isEmpty();
        assertThat(generated).hasValue(0);
    }

    @Test
    void minimalRequestGeneratesIdsAndLeavesOptionalFieldsNull() {
        RequestEnvelope envelope = parseRequest("""
                {"folder_id": "f", "analyses": [{"type": "biometry"}, {"type": "Biometry", "source_media": null,
                 "params": null, "meta_data": null}]}""").value();

        assertThat(envelope.media()).isEmpty();
        assertThat(envelope.analyses())
                .extracting(AnalysisRequest::analyseId)
                .containsExactly("generated-1", "generated-2");
        for (AnalysisRequest analysis : envelope.analyses()) {
            assertThat(analysis.folderId()).isEqualTo("f");
            assertThat(analysis.sourceMedia()).isNull();
            assertThat(analysis.threshold()).isNull();
            assertThat(analysis.thresholdMin()).isNull();
            assertThat(analysis.metaDataJson()).isNull();
            assertThat(analysis.resolutionEndpoint()).isNull();
            assertThat(analysis.requestedAtMillis()).isEqualTo(NOW);
        }
    }

    @Test
    void acceptsAnalysisIdAsSynonym() {
        RequestEnvelope envelope = parseRequest("""
                {"folder_id": "f", "analyses": [{"type": "biometry", "analysis_id": "a-synonym"},
                                                {"type": "biometry", "analyse_id": "a2", "analysis_id": "a2"}]}""").value();

        assertThat(envelope.analyses()).extracting(AnalysisRequest::analyseId).containsExactly("a-synonym", "a2");
        assertThat(generated).hasValue(0);
    }

    @Test
    void thresholdsAcceptIntegerBoundsAndMinEqualToThreshold() {
        AnalysisRequest analysis = parseRequest("""
                {"folder_id": "f", "analyses": [{"type": "biometry", "params": {"threshold": 1, "threshold_min": 1}}]}
                """).value().analyses()[0];

        assertThat(analysis.threshold()).isEqualTo(1.0);
        assertThat(analysis.thresholdMin()).isEqualTo(1.0);
    }

    /**
     * Without params.threshold the job's --threshold applies, which may be above or below 0.85: the parser keeps
     * threshold_min and the folder join checks it (FolderJoinFunctionTest).
     */
    @Test
    void thresholdMinWithoutThresholdIsLeftToTheJob() {
        AnalysisRequest analysis = parseRequest("""
                {"folder_id":"f","analyses":[{"type":"biometry","params":{"threshold_min":0.86}}]}""").value().analyses()[0];
        assertThat(analysis.threshold()).isNull();
        assertThat(analysis.thresholdMin()).isEqualTo(0.86);
    }

    @Test
    void thresholdMinIsCheckedAgainstTheRequestsThreshold() {
        assertThat(parseRequest("""
                {"folder_id":"f","analyses":[{"type":"biometry","params":{"threshold":0.9,"threshold_min":0.86}}]}""").isOk()).isTrue();

        DeadLetter deadLetter = parseRequest("""
                {"folder_id":"f","analyses":[{"type":"biometry","params":{"threshold":0.7,"threshold_min":0.8}}]}""").deadLetter();
        assertThat(deadLetter.errorCode()).isEqualTo(OzError.INVALID_VALUE);
        assertThat(deadLetter.details()).isEqualTo("analyses[0].params.threshold_min");
        assertThat(deadLetter.errorMessage()).contains("must not exceed threshold (0.7)");
    }

    @Test
    void unsupportedAnalysisTypeRejectsTheWholeMessage() {
        DeadLetter deadLetter = parseRequest("""
                {"folder_id":"f","analyses":[{"type":"biometry"},{"type":"quality"}]}""").deadLetter();

        assertThat(deadLetter.errorCode()).isEqualTo(OzError.INVALID_VALUE);
        assertThat(deadLetter.details()).isEqualTo("analyses[1].type");
        assertThat(deadLetter.errorMessage()).contains("quality").contains("only biometry is supported");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            missing folder_id              | {"analyses":[{"type":"biometry"}]}                                                          | 3 | folder_id
            missing analyses               | {"folder_id":"f"}                                                                           | 3 | analyses
            missing type                   | {"folder_id":"f","analyses":[{"analyse_id":"a"}]}                                           | 3 | analyses[0].type
            null type                      | {"folder_id":"f","analyses":[{"type":null}]}                                                | 3 | analyses[0].type
            missing inline media_id        | {"folder_id":"f","analyses":[{"type":"biometry"}],"media":[{"media_type":"IMAGE_FOLDER","uri":"file:///a"}]} | 3 | media[0].media_id
            folder_id number               | {"folder_id":1,"analyses":[{"type":"biometry"}]}                                            | 5 | folder_id
            analyses not array             | {"folder_id":"f","analyses":{"type":"biometry"}}                                            | 5 | analyses
            analysis not object            | {"folder_id":"f","analyses":["biometry"]}                                                   | 5 | analyses[0]
            type not string                | {"folder_id":"f","analyses":[{"type":1}]}                                                   | 5 | analyses[0].type
            analyse_id not string          | {"folder_id":"f","analyses":[{"type":"biometry","analyse_id":5}]}                           | 5 | analyses[0].analyse_id
            analysis_id not string         | {"folder_id":"f","analyses":[{"type":"biometry","analysis_id":true}]}                       | 5 | analyses[0].analysis_id
            source_media not array         | {"folder_id":"f","analyses":[{"type":"biometry","source_media":"m1"}]}                      | 5 | analyses[0].source_media
            source_media element number    | {"folder_id":"f","analyses":[{"type":"biometry","source_media":["m1",2]}]}                  | 5 | analyses[0].source_media[1]
            params not object              | {"folder_id":"f","analyses":[{"type":"biometry","params":[0.9]}]}                           | 5 | analyses[0].params
            threshold string               | {"folder_id":"f","analyses":[{"type":"biometry","params":{"threshold":"0.9"}}]}             | 5 | analyses[0].params.threshold
            threshold_min boolean          | {"folder_id":"f","analyses":[{"type":"biometry","params":{"threshold_min":false}}]}         | 5 | analyses[0].params.threshold_min
            threshold_max string           | {"folder_id":"f","analyses":[{"type":"biometry","params":{"threshold_max":"high"}}]}        | 5 | analyses[0].params.threshold_max
            analysis meta_data string      | {"folder_id":"f","analyses":[{"type":"biometry","meta_data":"x"}]}                          | 5 | analyses[0].meta_data
            resolution_endpoint number     | {"folder_id":"f","analyses":[{"type":"biometry"}],"resolution_endpoint":80}                 | 5 | resolution_endpoint
            media not array                | {"folder_id":"f","analyses":[{"type":"biometry"}],"media":{}}                               | 5 | media
            media element not object       | {"folder_id":"f","analyses":[{"type":"biometry"}],"media":["m1"]}                           | 5 | media[0]
            inline tags not strings        | {"folder_id":"f","analyses":[{"type":"biometry"}],"media":[{"media_id":"m","media_type":"IMAGE_FOLDER","uri":"file:///a","tags":[{}]}]} | 5 | media[0].tags[0]
            empty analyses                 | {"folder_id":"f","analyses":[]}                                                             | 4 | analyses
            blank folder_id                | {"folder_id":"","analyses":[{"type":"biometry"}]}                                           | 4 | folder_id
            blank analyse_id               | {"folder_id":"f","analyses":[{"type":"biometry","analyse_id":" "}]}                         | 4 | analyses[0].analyse_id
            analyse_id and analysis_id     | {"folder_id":"f","analyses":[{"type":"biometry","analyse_id":"a","analysis_id":"b"}]}       | 4 | analyses[0].analysis_id
            duplicate analyse_id           | {"folder_id":"f","analyses":[{"type":"biometry","analyse_id":"a"},{"type":"biometry","analysis_id":"a"}]} | 4 | analyses[1].analyse_id
            empty source_media             | {"folder_id":"f","analyses":[{"type":"biometry","source_media":[]}]}                        | 4 | analyses[0].source_media
            blank source_media id          | {"folder_id":"f","analyses":[{"type":"biometry","source_media":["m1",""]}]}                 | 4 | analyses[0].source_media[1]
            threshold above 1              | {"folder_id":"f","analyses":[{"type":"biometry","params":{"threshold":1.5}}]}               | 4 | analyses[0].params.threshold
            threshold negative             | {"folder_id":"f","analyses":[{"type":"biometry","params":{"threshold":-0.1}}]}              | 4 | analyses[0].params.threshold
            threshold_min above 1          | {"folder_id":"f","analyses":[{"type":"biometry","params":{"threshold_min":2}}]}             | 4 | analyses[0].params.threshold_min
            threshold_max above 1          | {"folder_id":"f","analyses":[{"type":"biometry","params":{"threshold_max":1.01}}]}          | 4 | analyses[0].params.threshold_max
            threshold_min above threshold  | {"folder_id":"f","analyses":[{"type":"biometry","params":{"threshold":0.7,"threshold_min":0.8}}]} | 4 | analyses[0].params.threshold_min
            endpoint not a URI             | {"folder_id":"f","analyses":[{"type":"biometry"}],"resolution_endpoint":"http://a b"}       | 4 | resolution_endpoint
            endpoint relative              | {"folder_id":"f","analyses":[{"type":"biometry"}],"resolution_endpoint":"/hooks/oz"}        | 4 | resolution_endpoint
            endpoint not http              | {"folder_id":"f","analyses":[{"type":"biometry"}],"resolution_endpoint":"ftp://h/x"}        | 4 | resolution_endpoint
            endpoint without host          | {"folder_id":"f","analyses":[{"type":"biometry"}],"resolution_endpoint":"https:///x"}       | 4 | resolution_endpoint
            endpoint blank                 | {"folder_id":"f","analyses":[{"type":"biometry"}],"resolution_endpoint":""}                 | 4 | resolution_endpoint
            inline media other folder      | {"folder_id":"f","analyses":[{"type":"biometry"}],"media":[{"folder_id":"g","media_id":"m","media_type":"IMAGE_FOLDER","uri":"file:///a"}]} | 4 | media[0].folder_id
            inline media duplicate id      | {"folder_id":"f","analyses":[{"type":"biometry"}],"media":[{"media_id":"m","media_type":"IMAGE_FOLDER","uri":"file:///a"},{"media_id":"m","media_type":"VIDEO_FOLDER","uri":"file:///b"}]} | 4 | media[1].media_id
            inline media bad type          | {"folder_id":"f","analyses":[{"type":"biometry"}],"media":[{"media_id":"m","media_type":"PDF","uri":"file:///a"}]} | 4 | media[0].media_type
            inline media relative uri      | {"folder_id":"f","analyses":[{"type":"biometry"}],"media":[{"media_id":"m","media_type":"IMAGE_FOLDER","uri":"a.jpg"}]} | 4 | media[0].uri
            """)
    void rejectsBadRequests(String caseName, String json, int expectedCode, String expectedDetails) {
        DeadLetter deadLetter = parseRequest(json).deadLetter();

        assertThat(deadLetter.errorCode()).isEqualTo(expectedCode);
        assertThat(deadLetter.details()).isEqualTo(expectedDetails);
        assertThat(deadLetter.errorMessage())
                .startsWith(errorName(expectedCode) + ": ")
                .contains(expectedDetails);
        assertThat(deadLetter.payload()).isEqualTo(json);
        assertThat(deadLetter.payloadBase64()).isFalse();
        assertThat(deadLetter.sourceTopic()).isEqualTo("biometry.requests");
        assertThat(deadLetter.sourcePartition()).isZero();
        assertThat(deadLetter.sourceOffset()).isEqualTo(12);
        assertThatThrownBy(() -> parseRequest(json).value()).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void acceptsPlainHttpEndpointWithUppercaseScheme() {
        AnalysisRequest analysis = parseRequest("""
                {"folder_id":"f","analyses":[{"type":"biometry"}],"resolution_endpoint":"HTTP://10.0.0.5:8080/cb"}
                """).value().analyses()[0];

        assertThat(analysis.resolutionEndpoint()).isEqualTo("HTTP://10.0.0.5:8080/cb");
    }

    // ---- dead-letter JSON ----------------------------------------------------------------------------------

    @Test
    void deadLetterJsonRoundTrips() throws Exception {
        DeadLetter deadLetter = parseRequest("""
                {"folder_id":"f","analyses":[{"type":"biometry","params":{"threshold":"0.9"}}]}""").deadLetter();

        JsonNode json = Json.mapper().readTree(InputParser.toJson(deadLetter));

        assertThat(json.get("error_code").intValue()).isEqualTo(5);
        assertThat(json.get("error_message").textValue())
                .isEqualTo("INVALID TYPE: analyses[0].params.threshold must be a number");
        assertThat(json.get("details").textValue()).isEqualTo("analyses[0].params.threshold");
        assertThat(json.get("source").get("topic").textValue()).isEqualTo("biometry.requests");
        assertThat(json.get("source").get("partition").intValue()).isZero();
        assertThat(json.get("source").get("offset").longValue()).isEqualTo(12);
        assertThat(json.get("payload_encoding").textValue()).isEqualTo("utf-8");
        assertThat(Json.mapper()
                        .readTree(json.get("payload").textValue())
                        .get("folder_id")
                        .textValue())
                .isEqualTo("f");
        assertThat(json.properties())
                .extracting(java.util.Map.Entry::getKey)
                .containsExactly("error_code", "error_message", "details", "source", "payload", "payload_encoding");
    }

    @Test
    void deadLetterJsonForBinaryPayloadHasNullDetailsAndBase64Encoding() throws Exception {
        byte[] bytes = {(byte) 0xFF, (byte) 0xFE, 0x00, 0x7B};
        DeadLetter deadLetter = InputParser.parseMedia(bytes, MEDIA_SOURCE).deadLetter();

        ObjectNode json = (ObjectNode) Json.mapper().readTree(InputParser.toJson(deadLetter));

        assertThat(json.get("error_code").intValue()).isEqualTo(3);
        assertThat(json.get("details").isNull()).isTrue();
        assertThat(json.get("payload_encoding").textValue()).isEqualTo("base64");
        assertThat(Base64.getDecoder().decode(json.get("payload").textValue())).isEqualTo(bytes);
        assertThat(json.get("source").get("partition").intValue()).isEqualTo(2);
        assertThat(json.get("source").get("offset").longValue()).isEqualTo(41);
    }

    // ---- helpers -------------------------------------------------------------------------------------------

    private static ParseResult<MediaRef> parseMedia(String json) {
        return InputParser.parseMedia(json.getBytes(StandardCharsets.UTF_8), MEDIA_SOURCE);
    }

    private ParseResult<RequestEnvelope> parseRequest(String json) {
        return InputParser.parseRequest(json.getBytes(StandardCharsets.UTF_8), REQUEST_SOURCE, NOW, idGenerator);
    }

    private static String errorName(int code) {
        return switch (code) {
            case OzError.INVALID_STRUCTURE -> "INVALID STRUCTURE";
            case OzError.INVALID_VALUE -> "INVALID VALUE";
            case OzError.INVALID_TYPE -> "INVALID TYPE";
            default -> throw new IllegalArgumentException(String.valueOf(code));
        };
    }
}
