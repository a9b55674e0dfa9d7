package dev.biometry.match;

/**
 * The comparison of two media of one analysis, identified by their positions in the analysis' media list.
 *
 * @param i          position of the first media, &ge; 0
 * @param j          position of the second media, &gt; {@code i}
 * @param cosine     cosine similarity of the two embeddings, in [&minus;1, 1]; NaN when either media has no
 *                   embedding (no usable face)
 * @param confidence the calibrated confidence of that cosine, in [0, 1]; 0 when the cosine is NaN
 */
public record PairScore(int i, int j, double cosine, double confidence) {

    /** Validates the indices. */
    public PairScore {
        if (i < 0 || j <= i) {
            throw new IllegalArgumentException("need 0 <= i < j, got i=" + i + ", j=" + j);
        }
    }

    /** Whether media {@code index} is one of the two media of this pair. */
    public boolean involves(int index) {
        return i == index || j == index;
    }
}
