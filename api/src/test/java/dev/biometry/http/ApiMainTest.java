package dev.biometry.http;

import static org.assertj.core.api.Assertions.assertThat;

import at.favre.lib.crypto.bcrypt.BCrypt;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The command entry shared by biometry-api.jar and the standalone jar's {@code api} command. */
class ApiMainTest {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String stdin, String... args) throws Exception {
        return ApiMain.run(
                args,
                new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void hashPasswordPrintsABcryptHashOfStdin() throws Exception {
        assertThat(run("correct horse\n", "hash-password")).isZero();
        String hash = out.toString(StandardCharsets.UTF_8).strip();
        assertThat(BCrypt.verifyer().verify("correct horse".toCharArray(), hash).verified)
                .isTrue();
        assertThat(BCrypt.verifyer().verify("wrong".toCharArray(), hash).verified)
                .isFalse();
    }

    @Test
    void anEmptyPasswordIsAUsageError() throws Exception {
        assertThat(run("", "hash-password")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("no password on stdin");
    }

    @Test
    void anUnknownOptionIsAUsageErrorWithTheUsage() throws Exception {
        assertThat(run("", "serve", "--no-such-option", "x")).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8))
                .contains("no-such-option")
                .contains("usage:");
    }

    @Test
    void helpAndOptionsPrintAndReturn() throws Exception {
        assertThat(run("", "--help")).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("hash-password");
        out.reset();
        assertThat(run("", "options")).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("--bootstrap-servers");
    }
}
