package dev.biometry.face;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class NmsTest {

    private static DetectedFace face(float x1, float y1, float x2, float y2, float score) {
        return new DetectedFace(new Box(x1, y1, x2, y2), score);
    }

    @Test
    void keepsTheBestOfOverlappingBoxesAndEveryDisjointBox() {
        DetectedFace best = face(10, 10, 110, 110, 0.99f);
        DetectedFace shifted = face(15, 12, 115, 112, 0.90f); // IoU ~0.87 with best
        DetectedFace other = face(300, 300, 380, 380, 0.80f);
        DetectedFace overlapsOther = face(310, 305, 390, 385, 0.70f);

        List<DetectedFace> kept = Nms.suppress(List.of(shifted, overlapsOther, best, other), 0.4f);

        assertThat(kept).containsExactly(best, other);
    }

    @Test
    void keepsBoxesOverlappingAtOrBelowTheThreshold() {
        DetectedFace a = face(0, 0, 100, 100, 0.9f);
        DetectedFace b = face(50, 0, 150, 100, 0.8f); // IoU = 50*100 / (2*10000 - 5000) = 1/3
        assertThat(a.box().iou(b.box())).isCloseTo(1f / 3f, org.assertj.core.data.Offset.offset(1e-6f));

        assertThat(Nms.suppress(List.of(a, b), 0.4f)).containsExactly(a, b);
        assertThat(Nms.suppress(List.of(a, b), 0.3f)).containsExactly(a);
    }

    @Test
    void emptyInputGivesNothing() {
        assertThat(Nms.suppress(List.of(), 0.4f)).isEmpty();
    }

    @Test
    void mainFaceIsTheLargestThenTheMostCentral() {
        DetectedFace small = face(0, 0, 50, 50, 0.99f);
        DetectedFace large = face(500, 500, 700, 700, 0.70f);
        assertThat(FaceEngine.chooseMainFace(List.of(small, large), 1000, 1000)).isEqualTo(large);

        DetectedFace corner = face(0, 0, 100, 100, 0.99f);
        DetectedFace central = face(450, 450, 550, 550, 0.80f);
        assertThat(FaceEngine.chooseMainFace(List.of(corner, central), 1000, 1000))
                .isEqualTo(central);
        assertThat(FaceEngine.chooseMainFace(List.of(), 1000, 1000)).isNull();

        // A bystander a little larger than the centred subject, at the edge of the frame, does not win.
        DetectedFace subject = face(400, 400, 600, 600, 0.99f);
        DetectedFace bystander = face(790, 0, 1000, 210, 0.99f); // 10 % larger
        assertThat(FaceEngine.chooseMainFace(List.of(bystander, subject), 1000, 1000))
                .isEqualTo(subject);
        // Clearly larger (beyond the tie margin) does win.
        DetectedFace near = face(700, 0, 1000, 300, 0.99f); // 2.25x the area
        assertThat(FaceEngine.chooseMainFace(List.of(near, subject), 1000, 1000))
                .isEqualTo(near);
    }
}
