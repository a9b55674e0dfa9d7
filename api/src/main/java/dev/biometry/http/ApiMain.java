package dev.biometry.http;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;

/**
 * Entry of {@code biometry-api.jar}: {@code serve [options]} (the default) runs the Oz HTTP API;
 * {@code hash-password} reads a password on stdin and prints its bcrypt hash for a users file;
 * {@code options} prints the option table.
 */
public final class ApiMain {

    private ApiMain() {}

    static final String USAGE = """
            usage: java -jar api/target/biometry-api.jar [serve] --bootstrap-servers HOST:PORT [options]
                   java -jar api/target/biometry-api.jar hash-password   (reads the password on stdin)
                   java -jar api/target/biometry-api.jar options         (every option with its default)
              (the same as `java -jar launcher/target/biometry-local.jar api ...`)
            """;

    public static void main(String[] args) throws Exception {
        int code = run(args, System.in, System.out, System.err);
        if (code != 0) {
            System.exit(code);
        }
    }

    /**
     * Runs one command: {@code serve} blocks until the JVM shuts down (Ctrl-C, SIGTERM) and then stops the server;
     * the others return at once. Returns the exit code (2: bad usage). Also the {@code api} command of the
     * standalone jar.
     */
    public static int run(String[] args, InputStream in, PrintStream out, PrintStream err) throws Exception {
        if (args.length > 0 && (args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help"))) {
            out.print(USAGE);
            return 0;
        }
        if (args.length > 0 && args[0].equals("options")) {
            out.print(ApiConfig.markdownTable());
            return 0;
        }
        if (args.length > 0 && args[0].equals("hash-password")) {
            String password = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).readLine();
            if (password == null || password.isEmpty()) {
                err.println("hash-password: no password on stdin");
                return 2;
            }
            out.println(Auth.hash(password));
            return 0;
        }
        String[] rest = args.length > 0 && args[0].equals("serve") ? Arrays.copyOfRange(args, 1, args.length) : args;
        ApiConfig config;
        try {
            config = ApiConfig.fromArgs(rest, System.getenv());
        } catch (IllegalArgumentException e) {
            err.println("biometry-api: " + e.getMessage());
            err.print(USAGE);
            return 2;
        }
        ApiServer server = ApiServer.start(config);
        err.println("biometry-api: Oz API on http://" + config.host() + ":" + server.port() + "/api/ (Kafka "
                + config.bootstrapServers() + ", database " + config.dbUrl().replaceAll(";.*", "") + ")"
                + (config.demoUser() ? "; demo user " + Auth.DEMO_EMAIL + " / " + Auth.DEMO_PASSWORD : ""));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                server.close();
            } catch (Exception e) {
                err.println("biometry-api: error while stopping: " + e);
            }
            stopped.countDown();
        }));
        stopped.await();
        return 0;
    }
}
