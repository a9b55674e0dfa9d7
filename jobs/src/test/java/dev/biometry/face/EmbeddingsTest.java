package dev.biometry.face;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.offset;

import org.junit.jupiter.api.Test;

class EmbeddingsTest {

    @Test
    void l2NormalizeReturnsAUnitCopy() {
        float[] v = {3f, 4f};

        float[] unit = Embeddings.l2Normalize(v);

        assertThat(unit).containsExactly(new float[] {0.6f, 0.8f}, offset(1e-7f));
        assertThat(unit).isNotSameAs(v);
        assertThat(v).containsExactly(3f, 4f);
    }

    @Test
    void l2NormalizeRejectsZeroAndNonFiniteVectors() {
        assertThatThrownBy(() -> Embeddings.l2Normalize(new float[] {0f, 0f, 0f}))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Embeddings.l2Normalize(new float[0])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Embeddings.l2Normalize(new float[] {Float.NaN, 1f}))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
