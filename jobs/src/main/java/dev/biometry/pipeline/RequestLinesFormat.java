package dev.biometry.pipeline;

import dev.biometry.api.RequestLines;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.UUID;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.file.src.reader.SimpleStreamFormat;
import org.apache.flink.connector.file.src.reader.StreamFormat;
import org.apache.flink.core.fs.FSDataInputStream;

/**
 * Reads a JSON-lines requests file for batch runs: each non-blank line that is not a {@code #} comment becomes a
 * {@link RawRecord} (source = the file's name, offset = the line number), with relative media URIs resolved
 * against {@code baseDir} and missing analysis ids filled in ({@link RequestLines}).
 */
public final class RequestLinesFormat extends SimpleStreamFormat<RawRecord> {

    private static final long serialVersionUID = 1L;

    private final String sourceName;
    private final String baseDir;

    public RequestLinesFormat(String sourceName, String baseDir) {
        this.sourceName = sourceName;
        this.baseDir = baseDir;
    }

    @Override
    public StreamFormat.Reader<RawRecord> createReader(Configuration config, FSDataInputStream stream) {
        BufferedReader lines = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8));
        Path base = Path.of(baseDir);
        return new StreamFormat.Reader<>() {
            private long number;

            @Override
            public RawRecord read() throws IOException {
                String line;
                while ((line = lines.readLine()) != null) {
                    number++;
                    String trimmed = line.trim();
                    if (trimmed.isEmpty() || trimmed.startsWith("#")) {
                        continue;
                    }
                    RequestLines.Line prepared = RequestLines.prepare(trimmed, base, () -> UUID.randomUUID().toString());
                    return new RawRecord(sourceName, 0, number, null, prepared.json().getBytes(StandardCharsets.UTF_8));
                }
                return null;
            }

            @Override
            public void close() throws IOException {
                lines.close();
            }
        };
    }

    @Override
    public TypeInformation<RawRecord> getProducedType() {
        return TypeInformation.of(RawRecord.class);
    }
}
