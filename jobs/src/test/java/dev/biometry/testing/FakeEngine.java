package dev.biometry.testing;

import dev.biometry.api.MediaType;
import dev.biometry.face.FacePolicy;
import dev.biometry.face.MediaAnalyzer;
import dev.biometry.face.MediaFaceSearch;
import dev.biometry.face.MediaFaces;
import dev.biometry.media.MediaException;
import dev.biometry.pipeline.EngineFactory;
import java.nio.charset.StandardCharsets;
import java.util.Random;

/**
 * A face engine for topology tests, without the models: a media's bytes say what it shows. {@code face:NAME} is one
 * face whose template depends only on NAME (the same person matches with confidence 1, two people are nearly
 * orthogonal, so DECLINED); {@code noface} has no face; anything else does not decode (as a corrupt image).
 */
public final class FakeEngine implements MediaFaceSearch {

    /** The factory the job is given (a serialisable method reference). */
    public static final EngineFactory FACTORY = FakeEngine::open;

    private static final int DIMENSIONS = 128;

    private static MediaFaceSearch open(FacePolicy policy, MediaAnalyzer.Limits limits) {
        return new FakeEngine();
    }

    /** The bytes of a media showing {@code person}'s face. */
    public static byte[] face(String person) {
        return ("face:" + person).getBytes(StandardCharsets.UTF_8);
    }

    /** The bytes of a media without a face. */
    public static byte[] noFace() {
        return "noface".getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public MediaFaces.Result analyze(byte[] bytes, MediaType type, boolean idDocument, String name)
            throws MediaException {
        String content = new String(bytes, StandardCharsets.UTF_8);
        if (content.equals("noface")) {
            return new MediaFaces.Result(0, null, null, null, null, "no face found");
        }
        if (!content.startsWith("face:")) {
            throw new MediaException(MediaException.Kind.UNDECODABLE, name + ": not a JPEG or PNG image");
        }
        return new MediaFaces.Result(1, null, template(content.substring(5)), null, null, null);
    }

    /** A unit vector drawn from a generator seeded by the person's name. */
    static float[] template(String person) {
        Random random = new Random(person.hashCode());
        float[] v = new float[DIMENSIONS];
        double norm = 0;
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) random.nextGaussian();
            norm += v[i] * v[i];
        }
        for (int i = 0; i < v.length; i++) {
            v[i] /= (float) Math.sqrt(norm);
        }
        return v;
    }
}
