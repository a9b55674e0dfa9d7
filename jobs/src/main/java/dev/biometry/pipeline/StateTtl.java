package dev.biometry.pipeline;

import java.time.Duration;
import org.apache.flink.api.common.state.StateTtlConfig;

/** The state TTL settings of the job's operators. */
final class StateTtl {

    private StateTtl() {}

    /** Expires {@code ttl} after the last write; expired values are never returned. */
    static StateTtlConfig afterLastWrite(Duration ttl) {
        return StateTtlConfig.newBuilder(ttl)
                .setUpdateType(StateTtlConfig.UpdateType.OnCreateAndWrite)
                .setStateVisibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
                .build();
    }
}
