package dev.biometry.api;

import java.util.Objects;

/**
 * The outcome of parsing one input record: either the typed value or the {@link DeadLetter} explaining why the
 * record was rejected. Exactly one of the two is present.
 */
public final class ParseResult<T> {

    private final T value;
    private final DeadLetter deadLetter;

    private ParseResult(T value, DeadLetter deadLetter) {
        this.value = value;
        this.deadLetter = deadLetter;
    }

    public static <T> ParseResult<T> ok(T value) {
        return new ParseResult<>(Objects.requireNonNull(value, "value"), null);
    }

    public static <T> ParseResult<T> rejected(DeadLetter deadLetter) {
        return new ParseResult<>(null, Objects.requireNonNull(deadLetter, "deadLetter"));
    }

    public boolean isOk() {
        return deadLetter == null;
    }

    /** The parsed value; throws {@link IllegalStateException} if the record was rejected. */
    public T value() {
        if (!isOk()) {
            throw new IllegalStateException("record was rejected: " + deadLetter.errorMessage());
        }
        return value;
    }

    /** Why the record was rejected; throws {@link IllegalStateException} if it was parsed. */
    public DeadLetter deadLetter() {
        if (isOk()) {
            throw new IllegalStateException("record was parsed, there is no dead letter");
        }
        return deadLetter;
    }

    @Override
    public String toString() {
        return isOk() ? "ParseResult.ok(" + value + ")" : "ParseResult.rejected(" + deadLetter + ")";
    }
}
