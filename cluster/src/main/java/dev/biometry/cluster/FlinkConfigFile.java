package dev.biometry.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A Flink {@code config.yaml} as flat keys ({@code taskmanager.memory.process.size: 3072m}): read from the
 * repository's shared {@code docker/flink/config.yaml}, overlaid with what a run on one machine needs, and written
 * back in the flattened form that Flink 2's YAML parser accepts beside the nested one.
 */
final class FlinkConfigFile {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS));

    private FlinkConfigFile() {}

    /** The file's keys, nested maps flattened with dots, in file order; scalars as their text. */
    static Map<String, String> read(Path file) throws IOException {
        Map<String, String> flat = new LinkedHashMap<>();
        flatten("", YAML.readTree(Files.readString(file)), flat);
        return flat;
    }

    private static void flatten(String prefix, JsonNode node, Map<String, String> into) {
        if (node == null || node.isNull() || node.isMissingNode()) {
            return;
        }
        if (node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                flatten(prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey(), e.getValue(), into);
            }
        } else if (node.isArray()) {
            throw new IllegalArgumentException(prefix + ": lists are not used in the shared Flink config");
        } else {
            into.put(prefix, node.asText());
        }
    }

    /** Writes {@code keys} as a flat config.yaml with a header comment. */
    static void write(Path file, String header, Map<String, String> keys) throws IOException {
        StringBuilder out = new StringBuilder();
        header.lines().forEach(l -> out.append("# ").append(l).append('\n'));
        out.append(YAML.writeValueAsString(keys));
        Files.writeString(file, out.toString());
    }
}
