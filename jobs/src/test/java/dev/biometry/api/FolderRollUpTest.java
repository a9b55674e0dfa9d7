package dev.biometry.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The folder roll-up rule and the folder object, as plain Java. */
class FolderRollUpTest {

    private static final long T0 = 7_000_000L;

    @Test
    void statusIsInitialWithoutAnalysesProcessingWhileAnyRunsThenFailedIfAnyFailedElseFinished() {
        assertThat(FolderRollUp.status(List.of())).isEqualTo("INITIAL");
        assertThat(FolderRollUp.status(List.of("PROCESSING"))).isEqualTo("PROCESSING");
        assertThat(FolderRollUp.status(List.of("FINISHED"))).isEqualTo("FINISHED");
        assertThat(FolderRollUp.status(List.of("FINISHED", "FINISHED"))).isEqualTo("FINISHED");
        assertThat(FolderRollUp.status(List.of("FINISHED", "FAILED"))).isEqualTo("FAILED");
        assertThat(FolderRollUp.status(List.of("FAILED", "PROCESSING"))).isEqualTo("PROCESSING");
        assertThat(FolderRollUp.status(List.of("PROCESSING", "FAILED"))).isEqualTo("PROCESSING");
    }

    @Test
    void aDeclinedVerdictIsAFinishedAnalysisNotAFailure() {
        FolderRollUp.Folder folder = FolderRollUp.render(
                "f", T0, T0, Map.of(), Map.of("an-1", new AnalysisStatus("FINISHED", "DECLINED", T0)), 10);

        assertThat(folder.resolutionStatus()).isEqualTo("FINISHED");
        assertThat(folder.json().get("analyses").get(0).get("resolution").asText())
                .isEqualTo("DECLINED");
    }

    @Test
    void theFolderObjectGivesTimesInSecondsMediaByIdAndEachAnalysis() {
        Map<String, String> media = new LinkedHashMap<>();
        media.put("m2", "VIDEO_FOLDER");
        media.put("m1", "IMAGE_FOLDER");

        FolderRollUp.Folder folder = FolderRollUp.render(
                "folder-1",
                T0,
                T0 + 1_234,
                media,
                Map.of("an-1", new AnalysisStatus("PROCESSING", "PROCESSING", T0)),
                10);

        ObjectNode json = folder.json();
        assertThat(folder.resolutionStatus()).isEqualTo("PROCESSING");
        assertThat(json.get("folder_id").asText()).isEqualTo("folder-1");
        assertThat(json.get("resolution_status").asText()).isEqualTo("PROCESSING");
        assertThat(json.get("time_created").decimalValue()).isEqualByComparingTo("7000.000");
        assertThat(json.get("time_updated").decimalValue()).isEqualByComparingTo("7001.234");
        assertThat(json.get("media"))
                .extracting(m ->
                        m.get("media_id").asText() + "/" + m.get("media_type").asText())
                .containsExactly("m1/IMAGE_FOLDER", "m2/VIDEO_FOLDER");
        assertThat(json.get("analyses").get(0).get("type").asText()).isEqualTo("BIOMETRY");
        assertThat(json.get("analyses").get(0).get("state").asText()).isEqualTo("PROCESSING");
    }

    @Test
    void aLargeFolderListsRunningAnalysesFirstThenTheMostRecentlyUpdatedAndCountsAll() {
        Map<String, String> media = new LinkedHashMap<>();
        Map<String, AnalysisStatus> analyses = new LinkedHashMap<>();
        for (int i = 0; i < 5; i++) {
            media.put("m" + i, "IMAGE_FOLDER");
            analyses.put("an-" + i, new AnalysisStatus("FINISHED", "SUCCESS", T0 + i));
        }
        analyses.put("an-0", new AnalysisStatus("PROCESSING", "PROCESSING", T0));

        ObjectNode json =
                FolderRollUp.render("f", T0, T0 + 10, media, analyses, 3).json();

        assertThat(json.get("media"))
                .extracting(m -> m.get("media_id").asText())
                .containsExactly("m0", "m1", "m2");
        assertThat(json.get("media_count").asInt()).isEqualTo(5);
        assertThat(json.get("analyses_count").asInt()).isEqualTo(5);
        assertThat(json.get("analyses"))
                .extracting(a -> a.get("analyse_id").asText())
                .containsExactly("an-0", "an-3", "an-4");
    }
}
