package dev.biometry.face;

import ai.onnxruntime.OrtException;
import dev.biometry.api.FaceReport;
import dev.biometry.media.MediaException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Rect;

/**
 * Picks and measures the face a media is matched by, under a {@link FacePolicy}: for a photo its main face (on an
 * ID document, searched again on overlapping tiles when the whole-image pass finds none); for a video or shots
 * set the best frames, whose embeddings are averaged into one template. Frames come from a {@link FrameSource} and
 * are opened one at a time.
 */
public final class MediaFaces {

    /** A decoded frame and its index in the video or shots set; closing it releases the Mat. */
    public record Frame(int index, Mat bgr) implements AutoCloseable {
        @Override
        public void close() {
            bgr.close();
        }
    }

    /**
     * The frames of a video or shots set, opened one at a time: {@link #frames(FrameSource, int)} holds at most one
     * open frame, so a source that decodes in {@link #open} bounds native memory to one decoded frame.
     */
    public interface FrameSource {
        /** How many frames the source has. */
        int size();

        /**
         * Opens frame {@code k} (0 &le; k &lt; size); the caller closes it. Opening the same frame again gives the
         * same pixels.
         */
        Frame open(int k) throws MediaException;

        /**
         * Frames that are already decoded: each {@link #open} returns a new header sharing the frame's pixels
         * (OpenCV counts the references), so closing it leaves the list's Mats open.
         */
        static FrameSource of(List<Frame> frames) {
            return new FrameSource() {
                @Override
                public int size() {
                    return frames.size();
                }

                @Override
                public Frame open(int k) {
                    Frame frame = frames.get(k);
                    return new Frame(frame.index(), new Mat(frame.bgr()));
                }
            };
        }
    }

    /**
     * The face a media is matched by.
     *
     * @param facesDetected faces found (in the photo, or the most in any one frame)
     * @param chosen the chosen face (for frames: the best shot), null when none was found
     * @param template the unit-length template to match, null when the media has no usable face
     * @param frameIndices the frames whose embeddings make the template, ascending; null for photos
     * @param bestShotScore best-shot score of the best frame; null for photos
     * @param problem why the media has no usable face (no face, quality gate, face policy), else null
     */
    public record Result(
            int facesDetected,
            FaceMeasure chosen,
            float[] template,
            int[] frameIndices,
            Double bestShotScore,
            String problem) {

        /** Which face the template comes from, as a result shows it; null when no face was chosen. */
        public FaceReport report() {
            return chosen == null
                    ? null
                    : new FaceReport(
                            new float[] {
                                chosen.box().x1(),
                                chosen.box().y1(),
                                chosen.box().x2(),
                                chosen.box().y2()
                            },
                            chosen.score(),
                            frameIndices,
                            bestShotScore);
        }
    }

    private final FaceEngine engine;
    private final FacePolicy policy;

    public MediaFaces(FaceEngine engine, FacePolicy policy) {
        this.engine = engine;
        this.policy = policy;
    }

    /** The face of a photo; {@code idDocument} enables the tiled search for small document portraits. */
    public Result photo(Mat bgr, boolean idDocument) throws OrtException {
        try {
            return photo(bgr, idDocument, 1, null);
        } catch (MediaException e) {
            throw new IllegalStateException("a full-size image was decoded without a reduction", e);
        }
    }

    /**
     * The face of a photo decoded at 1/{@code reduction} of its size: faces are detected there, and the chosen face
     * is measured as {@link FaceEngine#measureFound} does. Boxes, landmarks and distances in the result (and those
     * the quality gate judges) are in the full image's pixels.
     */
    public Result photo(Mat bgr, boolean idDocument, int reduction, FaceEngine.Redecode redecode)
            throws OrtException, MediaException {
        List<DetectedFace> faces = engine.detect(bgr);
        if (faces.isEmpty() && idDocument) {
            faces = detectOnTiles(bgr);
        }
        if (faces.isEmpty()) {
            return new Result(0, null, null, null, null, "no face found");
        }
        if (policy.multipleFaces() == FacePolicy.MultipleFaces.REJECT && faces.size() > 1) {
            return new Result(
                    faces.size(),
                    null,
                    null,
                    null,
                    null,
                    faces.size() + " faces found; the face policy 'reject' accepts media with exactly one face");
        }
        DetectedFace main = FaceEngine.chooseMainFace(faces, bgr.cols(), bgr.rows());
        FaceMeasure measure = engine.measureFound(bgr, reduction, main, true, redecode);
        String problem = policy.qualityProblem(measure);
        return new Result(faces.size(), measure, problem == null ? measure.embedding() : null, null, null, problem);
    }

    /**
     * The template of a video or shots set: every frame's main face is measured, the frames that pass the quality
     * gate are ranked by best-shot score, and the normalised mean embedding of the best {@code bestK} is the
     * template. The frames must stay open until this returns.
     */
    public Result frames(List<Frame> frames, int bestK) throws OrtException {
        try {
            return frames(FrameSource.of(frames), bestK);
        } catch (MediaException e) {
            throw new IllegalStateException("frames that are already decoded failed to open", e);
        }
    }

    /**
     * As {@link #frames(List, int)}, opening one frame at a time: a first pass opens each frame, measures its main
     * face (without an embedding) and closes it; a second pass opens the best {@code bestK} frames again, one at a
     * time, to embed them. At most one frame is open at any moment.
     *
     * @throws MediaException when a frame cannot be opened (decoded)
     */
    public Result frames(FrameSource source, int bestK) throws OrtException, MediaException {
        int mostFaces = 0;
        String lastProblem = "no face found in any of " + source.size() + " frames";
        List<Integer> candidateFrames = new ArrayList<>();
        List<FaceMeasure> candidates = new ArrayList<>();
        for (int k = 0; k < source.size(); k++) {
            try (Frame frame = source.open(k)) {
                List<DetectedFace> faces = engine.detect(frame.bgr());
                mostFaces = Math.max(mostFaces, faces.size());
                if (faces.isEmpty()) {
                    continue;
                }
                if (policy.multipleFaces() == FacePolicy.MultipleFaces.REJECT && faces.size() > 1) {
                    return new Result(
                            faces.size(),
                            null,
                            null,
                            null,
                            null,
                            String.format(
                                    Locale.ROOT,
                                    "%d faces found in frame %d; the face policy 'reject' accepts media with exactly one face",
                                    faces.size(),
                                    frame.index()));
                }
                FaceMeasure m = engine.measure(
                        frame.bgr(),
                        FaceEngine.chooseMainFace(
                                faces, frame.bgr().cols(), frame.bgr().rows()),
                        false);
                String problem = policy.qualityProblem(m);
                if (problem != null) {
                    lastProblem = problem + " (frame " + frame.index() + ")";
                    continue;
                }
                candidateFrames.add(k);
                candidates.add(m);
            }
        }
        if (candidates.isEmpty()) {
            return new Result(mostFaces, null, null, null, null, lastProblem);
        }
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < candidates.size(); i++) {
            order.add(i);
        }
        order.sort(Comparator.comparingDouble((Integer i) -> candidates.get(i).bestShotScore())
                .reversed());
        List<Integer> best = order.subList(0, Math.min(bestK, order.size()));
        float[] sum = null;
        FaceMeasure bestMeasure = null;
        int[] indices = new int[best.size()];
        for (int k = 0; k < best.size(); k++) {
            FaceMeasure candidate = candidates.get(best.get(k));
            try (Frame frame = source.open(candidateFrames.get(best.get(k)))) {
                FaceMeasure embedded =
                        engine.measure(frame.bgr(), new DetectedFace(candidate.box(), candidate.score()), true);
                if (k == 0) {
                    bestMeasure = embedded;
                    sum = new float[embedded.embedding().length];
                }
                for (int d = 0; d < sum.length; d++) {
                    sum[d] += embedded.embedding()[d];
                }
                indices[k] = frame.index();
            }
        }
        java.util.Arrays.sort(indices);
        return new Result(
                mostFaces,
                bestMeasure,
                Embeddings.l2Normalize(sum),
                indices,
                candidates.get(best.get(0)).bestShotScore(),
                null);
    }

    /**
     * Detection on overlapping tiles (2x2, then 3x3, each overlapping its neighbours by a third), so that a face too
     * small for the detector's 320x240 view of the whole image is seen at a larger scale. Boxes are returned in
     * image pixels after NMS across tiles.
     */
    List<DetectedFace> detectOnTiles(Mat bgr) throws OrtException {
        for (int grid : new int[] {2, 3}) {
            List<DetectedFace> found = new ArrayList<>();
            int tileW = (int) Math.ceil(bgr.cols() / (grid - (grid - 1) / 3.0));
            int tileH = (int) Math.ceil(bgr.rows() / (grid - (grid - 1) / 3.0));
            for (int row = 0; row < grid; row++) {
                for (int col = 0; col < grid; col++) {
                    int x = grid == 1 ? 0 : Math.round((bgr.cols() - tileW) * col / (float) (grid - 1));
                    int y = grid == 1 ? 0 : Math.round((bgr.rows() - tileH) * row / (float) (grid - 1));
                    int w = Math.min(tileW, bgr.cols() - x);
                    int h = Math.min(tileH, bgr.rows() - y);
                    try (Rect rect = new Rect(x, y, w, h);
                            Mat tile = new Mat(bgr, rect)) {
                        for (DetectedFace f : engine.detect(tile)) {
                            Box b = f.box();
                            found.add(new DetectedFace(
                                    new Box(b.x1() + x, b.y1() + y, b.x2() + x, b.y2() + y), f.score()));
                        }
                    }
                }
            }
            List<DetectedFace> kept = Nms.suppress(found, engine.config().nmsIouThreshold());
            if (!kept.isEmpty()) {
                return kept;
            }
        }
        return List.of();
    }
}
