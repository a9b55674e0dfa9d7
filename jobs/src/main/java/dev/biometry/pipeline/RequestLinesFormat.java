package dev.biometry.pipeline;

import dev.biometry.api.RequestLines;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
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
 * against {@code baseDir} (a local folder or a folder URI such as {@code s3://bucket/dir}) and missing analysis ids
 * filled in ({@link RequestLines}).
 */
public final class RequestLinesFormat extends SimpleStreamFormat<RawRecord> {

    private static final long serialVersionUID = 1L;

    private final String sourceName;
    private final String baseDir;

    /**
     * @param baseDir the folder relative media URIs are resolved against: a local path, or a folder URI of another
     *     file system ({@code s3://bucket/dir}), as {@link #baseDirOf} gives
     */
    public RequestLinesFormat(String sourceName, String baseDir) {
        this.sourceName = sourceName;
        this.baseDir = baseDir;
    }

    /** Whether {@code pathOrUri} is on the local file system (no scheme, or {@code file:}). */
    public static boolean isLocal(String pathOrUri) {
        String scheme = new org.apache.flink.core.fs.Path(pathOrUri).toUri().getScheme();
        return scheme == null || scheme.equals("file");
    }

    /**
     * The folder of the requests file {@code input}: an absolute local path, or on another file system the parent
     * URI ({@code s3://bucket/batch/requests.jsonl} gives {@code s3://bucket/batch}).
     */
    public static String baseDirOf(String input) {
        org.apache.flink.core.fs.Path path = new org.apache.flink.core.fs.Path(input);
        if (isLocal(input)) {
            Path parent = Path.of(path.toUri().getPath()).toAbsolutePath().getParent();
            return parent == null ? "/" : parent.toString();
        }
        org.apache.flink.core.fs.Path parent = path.getParent();
        return parent == null ? path.toString() : parent.toString();
    }

    @Override
    public StreamFormat.Reader<RawRecord> createReader(Configuration config, FSDataInputStream stream) {
        BufferedReader lines = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8));
        URI baseFolder = new org.apache.flink.core.fs.Path(baseDir).toUri();
        Path localBase = isLocal(baseDir) ? Path.of(baseFolder.getPath()) : null;
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
                    RequestLines.Line prepared = localBase != null
                            ? RequestLines.prepare(
                                    trimmed, localBase, () -> UUID.randomUUID().toString())
                            : RequestLines.prepare(
                                    trimmed, baseFolder, () -> UUID.randomUUID().toString());
                    return new RawRecord(
                            sourceName, 0, number, null, prepared.json().getBytes(StandardCharsets.UTF_8));
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
