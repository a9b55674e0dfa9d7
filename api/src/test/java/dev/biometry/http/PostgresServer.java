package dev.biometry.http;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A throw-away PostgreSQL server for tests: {@code initdb} into a temporary directory and {@code pg_ctl start} on a
 * free loopback port, from the server binaries of the machine (Debian: {@code /usr/lib/postgresql/N/bin}, installed
 * by {@code .ci/run}). PostgreSQL refuses to run as root, so as root the cluster belongs to the {@code postgres}
 * user (or {@code nobody}) and the commands run through {@code runuser}.
 */
final class PostgresServer implements AutoCloseable {

    private final Path dir;
    private final Path bin;
    private final int port;
    private final String runAs;

    private PostgresServer(Path dir, Path bin, int port, String runAs) {
        this.dir = dir;
        this.bin = bin;
        this.port = port;
        this.runAs = runAs;
    }

    static PostgresServer start() throws Exception {
        Path bin = binaries();
        Path dir = Files.createTempDirectory("biometry-pg-");
        String runAs = null;
        if ("root".equals(System.getProperty("user.name"))) {
            runAs = userExists("postgres") ? "postgres" : "nobody";
            run(List.of("chown", "-R", runAs, dir.toString()), null, dir);
        }
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        PostgresServer server = new PostgresServer(dir, bin, port, runAs);
        run(
                List.of(
                        bin.resolve("initdb").toString(),
                        "-D",
                        dir.resolve("data").toString(),
                        "-U",
                        "test",
                        "--auth=trust",
                        "-E",
                        "UTF8",
                        "--no-sync"),
                runAs,
                dir);
        run(
                List.of(
                        bin.resolve("pg_ctl").toString(),
                        "-D",
                        dir.resolve("data").toString(),
                        "-l",
                        dir.resolve("log").toString(),
                        "-w",
                        "-t",
                        "120",
                        "-o",
                        "-p " + port + " -k " + dir
                                + " -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
                        "start"),
                runAs,
                dir);
        try (Connection c =
                        DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres", "test", "");
                Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE biometry");
        }
        return server;
    }

    String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/biometry";
    }

    /** A fresh database on this server (each test class its own). */
    String newDatabase(String name) throws Exception {
        try (Connection c =
                        DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres", "test", "");
                Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE " + name);
        }
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + name;
    }

    private static Path binaries() throws IOException {
        Path root = Path.of("/usr/lib/postgresql");
        if (Files.isDirectory(root)) {
            try (Stream<Path> versions = Files.list(root)) {
                var found = versions.map(v -> v.resolve("bin"))
                        .filter(b -> Files.isExecutable(b.resolve("initdb")))
                        .max(Comparator.comparing(Path::toString));
                if (found.isPresent()) {
                    return found.get();
                }
            }
        }
        throw new IllegalStateException("PostgreSQL server binaries not found under " + root
                + ": install the postgresql package (.ci/run does)");
    }

    private static boolean userExists(String user) throws Exception {
        Process p =
                new ProcessBuilder("id", "-u", user).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor() == 0;
    }

    private static void run(List<String> command, String runAs, Path cwd) throws Exception {
        List<String> full = new ArrayList<>();
        if (runAs != null) {
            full.addAll(List.of("runuser", "-u", runAs, "--"));
        }
        full.addAll(command);
        Process p = new ProcessBuilder(full)
                .directory(cwd.toFile())
                .redirectErrorStream(true)
                .start();
        // pg_ctl's server keeps the pipe open: read what is there once the command itself has ended.
        if (!p.waitFor(180, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("timed out: " + full);
        }
        String out = new String(p.getInputStream().readNBytes(p.getInputStream().available()), StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new IllegalStateException("failed (" + p.exitValue() + "): " + full + "\n" + out);
        }
    }

    @Override
    public void close() throws Exception {
        try {
            run(
                    List.of(
                            bin.resolve("pg_ctl").toString(),
                            "-D",
                            dir.resolve("data").toString(),
                            "-m",
                            "immediate",
                            "-w",
                            "stop"),
                    runAs,
                    dir);
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
