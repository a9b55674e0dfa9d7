package dev.biometry.cli;

/**
 * Arguments a command does not accept, found after picocli parsed them (a missing combination, a value out of range,
 * a file that is not there); the message is meant for the user, who gets it with the command's usage and exit code 2.
 */
final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
        super(message);
    }
}
