package dev.biometry.api;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.SerializerProvider;
import java.io.IOException;
import java.math.BigDecimal;

/** Writes epoch seconds as a plain decimal with three fraction digits ({@code 1718000000.123}), never in E notation. */
public final class EpochSecondsSerializer extends JsonSerializer<Double> {

    @Override
    public void serialize(Double value, JsonGenerator gen, SerializerProvider serializers) throws IOException {
        gen.writeNumber(BigDecimal.valueOf(Math.round(value * 1000.0), 3).toPlainString());
    }
}
