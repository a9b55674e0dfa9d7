package dev.biometry.face;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Greedy non-maximum suppression: keeps the highest-scoring box of every group overlapping above an IoU threshold. */
public final class Nms {

    private Nms() {}

    /** Returns the kept faces, highest score first. */
    public static List<DetectedFace> suppress(List<DetectedFace> candidates, float iouThreshold) {
        List<DetectedFace> sorted = new ArrayList<>(candidates);
        sorted.sort(Comparator.comparingDouble(DetectedFace::score).reversed());
        List<DetectedFace> kept = new ArrayList<>();
        boolean[] removed = new boolean[sorted.size()];
        for (int i = 0; i < sorted.size(); i++) {
            if (removed[i]) {
                continue;
            }
            DetectedFace best = sorted.get(i);
            kept.add(best);
            for (int j = i + 1; j < sorted.size(); j++) {
                if (!removed[j] && best.box().iou(sorted.get(j).box()) > iouThreshold) {
                    removed[j] = true;
                }
            }
        }
        return kept;
    }
}
