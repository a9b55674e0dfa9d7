package dev.biometry.http;

import java.io.BufferedReader;
import java.io.InputStreamReader;
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
            """;

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && (args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help"))) {
            System.out.print(USAGE);
            return;
        }
        if (args.length > 0 && args[0].equals("options")) {
            System.out.print(ApiConfig.markdownTable());
            return;
        }
        if (args.length > 0 && args[0].equals("hash-password")) {
            String password = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
            if (password == null || password.isEmpty()) {
                System.err.println("hash-password: no password on stdin");
                System.exit(2);
            }
            System.out.println(Auth.hash(password));
            return;
        }
        String[] rest = args.length > 0 && args[0].equals("serve") ? Arrays.copyOfRange(args, 1, args.length) : args;
        ApiConfig config;
        try {
            config = ApiConfig.fromArgs(rest, System.getenv());
        } catch (IllegalArgumentException e) {
            System.err.println("biometry-api: " + e.getMessage());
            System.err.print(USAGE);
            System.exit(2);
            return;
        }
        ApiServer server = ApiServer.start(config);
        System.err.println("biometry-api: Oz API on http://" + config.host() + ":" + server.port() + "/api/ (Kafka "
                + config.bootstrapServers() + ", database " + config.dbUrl().replaceAll(";.*", "") + ")"
                + (config.demoUser() ? "; demo user " + Auth.DEMO_EMAIL + " / " + Auth.DEMO_PASSWORD : ""));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                server.close();
            } catch (Exception e) {
                System.err.println("biometry-api: error while stopping: " + e);
            }
            stopped.countDown();
        }));
        stopped.await();
    }
}
