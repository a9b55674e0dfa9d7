package dev.biometry.pipeline;

/** Names of the job's accumulators that several operators add to and the batch runner reads. */
public final class PipelineMetrics {

    private PipelineMetrics() {}

    /**
     * Accumulator of progress for batch runs: an analysis that fails before embedding counts 1 (folder join, claim,
     * parse); {@link EmbedFunction} adds 1/mediaCount per media embedded, so the sum reaches the number of analyses
     * when all are done.
     */
    public static final String PROGRESS_ACCUMULATOR = "analysesEmbedded";
}
