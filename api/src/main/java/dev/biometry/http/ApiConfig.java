package dev.biometry.http;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Every option of the HTTP API with its default, given as {@code --name value} (flags: {@code --name}). Secrets
 * (the database password) never come from the command line: {@code --db-password-file} or
 * {@code $BIOMETRY_API_DB_PASSWORD}.
 */
public record ApiConfig(
        String host,
        int port,
        String publicUrl,
        String bootstrapServers,
        String mediaTopic,
        String requestsTopic,
        String resultsTopic,
        String foldersTopic,
        String groupId,
        String dbUrl,
        String dbUser,
        String dbPassword,
        int dbPoolSize,
        Path mediaDir,
        Duration sessionTtl,
        Duration serviceSessionTtl,
        Path usersFile,
        boolean demoUser,
        int maxFilesPerFolder,
        long maxFileBytes,
        Duration syncTimeout,
        Duration kafkaTimeout) {

    /** One option: name, default ("" = none) and meaning; the README's table lists them all. */
    public record Option(String name, String defaultValue, String description, boolean flag) {}

    public static final String DB_PASSWORD_ENV = "BIOMETRY_API_DB_PASSWORD";

    public static final List<Option> OPTIONS = List.of(
            new Option("host", "127.0.0.1", "address to listen on (0.0.0.0 for every interface)", false),
            new Option("port", "8080", "HTTP port", false),
            new Option("public-url", "", "base URL of media links (original_url); default http://HOST:PORT", false),
            new Option("bootstrap-servers", "", "Kafka bootstrap servers (required)", false),
            new Option("media-topic", "biometry.media", "where uploaded media are published", false),
            new Option("requests-topic", "biometry.requests", "where analysis requests are published", false),
            new Option("results-topic", "biometry.results", "analysis results read (read_committed)", false),
            new Option("folders-topic", "biometry.folders", "folder roll-ups read (read_committed)", false),
            new Option("group-id", "biometry-api", "consumer group storing results (shared by all instances)", false),
            new Option(
                    "db-url",
                    "jdbc:h2:file:./biometry-api-data/db;MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE",
                    "JDBC URL: PostgreSQL (jdbc:postgresql://...) or the embedded H2 default",
                    false),
            new Option("db-user", "sa", "database user", false),
            new Option(
                    "db-password-file", "", "file holding the database password (or $" + DB_PASSWORD_ENV + ")", false),
            new Option("db-pool-size", "16", "pooled database connections (HikariCP)", false),
            new Option(
                    "media-dir",
                    "./biometry-api-data/media",
                    "media store directory; the job's --media-roots must include it",
                    false),
            new Option("session-ttl", "15m", "session lifetime of ordinary users (extended on use)", false),
            new Option("service-session-ttl", "1825d", "session lifetime of service users (is_service)", false),
            new Option("users-file", "", "JSON users file (bcrypt hashes) loaded into the database at start", false),
            new Option("demo-user", "", "create demo@biometry.local / demo-password (local demos only)", true),
            new Option("max-files", "10", "most media files per folder", false),
            new Option("max-file-size", "10485760", "largest media file, in bytes", false),
            new Option(
                    "sync-timeout",
                    "60s",
                    "how long single-request and instant calls wait for their analyses to finish",
                    false),
            new Option(
                    "kafka-timeout", "15s", "how long a publish to Kafka may take before the call fails (503)", false));

    /** Parses {@code --name value} / {@code --flag} arguments over the defaults. */
    public static ApiConfig fromArgs(String[] args, Map<String, String> env) {
        Map<String, String> values = new LinkedHashMap<>();
        for (Option o : OPTIONS) {
            values.put(o.name(), o.defaultValue());
        }
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument '" + args[i] + "'");
            }
            String name = args[i].substring(2);
            Option option = OPTIONS.stream()
                    .filter(o -> o.name().equals(name))
                    .findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("unknown option --" + name));
            if (option.flag()) {
                values.put(name, "true");
            } else {
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException("--" + name + " needs a value");
                }
                values.put(name, args[++i]);
            }
        }
        return fromValues(values, env);
    }

    static ApiConfig fromValues(Map<String, String> v, Map<String, String> env) {
        if (v.get("bootstrap-servers").isBlank()) {
            throw new IllegalArgumentException("--bootstrap-servers is required");
        }
        String host = v.get("host");
        int port = Integer.parseInt(v.get("port"));
        // Blank: http://HOST:PORT with the port actually bound (see ApiServer).
        String publicUrl = v.get("public-url").isBlank() ? null : stripSlash(v.get("public-url"));
        String password = env.getOrDefault(DB_PASSWORD_ENV, "");
        if (!v.get("db-password-file").isBlank()) {
            try {
                password = Files.readString(Path.of(v.get("db-password-file"))).strip();
            } catch (java.io.IOException e) {
                throw new IllegalArgumentException("cannot read --db-password-file: " + e.getMessage(), e);
            }
        }
        return new ApiConfig(
                host,
                port,
                publicUrl,
                v.get("bootstrap-servers"),
                v.get("media-topic"),
                v.get("requests-topic"),
                v.get("results-topic"),
                v.get("folders-topic"),
                v.get("group-id"),
                v.get("db-url"),
                v.get("db-user"),
                password,
                Integer.parseInt(v.get("db-pool-size")),
                Path.of(v.get("media-dir")).toAbsolutePath().normalize(),
                duration(v.get("session-ttl")),
                duration(v.get("service-session-ttl")),
                v.get("users-file").isBlank() ? null : Path.of(v.get("users-file")),
                Boolean.parseBoolean(v.get("demo-user")),
                Integer.parseInt(v.get("max-files")),
                Long.parseLong(v.get("max-file-size")),
                duration(v.get("sync-timeout")),
                duration(v.get("kafka-timeout")));
    }

    /** A copy with other values, for tests and embedding: {@code overrides} are option names to values. */
    public static ApiConfig of(Map<String, String> overrides) {
        Map<String, String> values = new LinkedHashMap<>();
        for (Option o : OPTIONS) {
            values.put(o.name(), o.defaultValue());
        }
        values.putAll(overrides);
        return fromValues(values, Map.of());
    }

    /** {@code 500ms}, {@code 60s}, {@code 15m}, {@code 24h}, {@code 7d}. */
    static Duration duration(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        try {
            if (t.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
            }
            long n = Long.parseLong(t.substring(0, t.length() - 1));
            return switch (t.charAt(t.length() - 1)) {
                case 's' -> Duration.ofSeconds(n);
                case 'm' -> Duration.ofMinutes(n);
                case 'h' -> Duration.ofHours(n);
                case 'd' -> Duration.ofDays(n);
                default -> throw new IllegalArgumentException("bad duration '" + text + "'");
            };
        } catch (NumberFormatException | StringIndexOutOfBoundsException e) {
            throw new IllegalArgumentException("bad duration '" + text + "' (e.g. 500ms, 60s, 15m, 24h, 7d)", e);
        }
    }

    private static String stripSlash(String url) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }

    /** The options as the README's Markdown table. */
    public static String markdownTable() {
        StringBuilder sb = new StringBuilder("| option | default | meaning |\n|---|---|---|\n");
        for (Option o : OPTIONS) {
            String def = o.flag() ? "(flag)" : o.defaultValue().isEmpty() ? "" : "`" + o.defaultValue() + "`";
            sb.append("| `--")
                    .append(o.name())
                    .append("` | ")
                    .append(def)
                    .append(" | ")
                    .append(o.description())
                    .append(" |\n");
        }
        return sb.toString();
    }
}
