package dev.biometry.match;

import java.util.List;

/**
 * Cosine scores of every pair of labelled embeddings, split into genuine (same identity) and impostor (different
 * identities) pairs: the input of {@link VerificationMetrics} and {@link Calibration#fit}.
 */
public record LabelledScores(double[] genuine, double[] impostor) {

    /** One embedding with the identity it belongs to; the embedding must be L2-normalised. */
    public record Sample(String identity, float[] embedding) {}

    public static LabelledScores of(List<Sample> samples) {
        int n = samples.size();
        long genuineCount = 0;
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                if (samples.get(i).identity().equals(samples.get(j).identity())) {
                    genuineCount++;
                }
            }
        }
        long total = (long) n * (n - 1) / 2;
        double[] genuine = new double[Math.toIntExact(genuineCount)];
        double[] impostor = new double[Math.toIntExact(total - genuineCount)];
        int g = 0;
        int m = 0;
        for (int i = 0; i < n; i++) {
            Sample a = samples.get(i);
            for (int j = i + 1; j < n; j++) {
                Sample b = samples.get(j);
                double cosine = PairwiseMatch.cosine(a.embedding(), b.embedding());
                if (a.identity().equals(b.identity())) {
                    genuine[g++] = cosine;
                } else {
                    impostor[m++] = cosine;
                }
            }
        }
        return new LabelledScores(genuine, impostor);
    }

    public VerificationMetrics metrics() {
        return VerificationMetrics.of(genuine, impostor);
    }
}
