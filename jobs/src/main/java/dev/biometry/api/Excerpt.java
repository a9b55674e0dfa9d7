package dev.biometry.api;

import java.util.Collection;
import java.util.Iterator;

/** Bounded excerpts of client-given text, for error messages that echo it. */
public final class Excerpt {

    private Excerpt() {}

    /**
     * {@code text} when at most {@code maxChars} long; else its first {@code maxChars} chars (never splitting a
     * surrogate pair) followed by {@code ... (N chars)}. Null stays null.
     */
    public static String of(String text, int maxChars) {
        if (text == null || text.length() <= maxChars) {
            return text;
        }
        int end = maxChars;
        if (end > 0 && Character.isHighSurrogate(text.charAt(end - 1))) {
            end--;
        }
        return text.substring(0, end) + "... (" + text.length() + " chars)";
    }

    /** The short excerpt used when an error message quotes a client value ({@link InputLimits#MAX_ECHO_CHARS}). */
    public static String of(String text) {
        return of(text, InputLimits.MAX_ECHO_CHARS);
    }

    /**
     * The first {@code maxItems} items, each excerpted, as {@code [a, b, ... and N more]}: a list of ids that
     * stays short however many the input named.
     */
    public static String list(Collection<String> items, int maxItems) {
        StringBuilder sb = new StringBuilder("[");
        Iterator<String> it = items.iterator();
        for (int i = 0; it.hasNext() && i < maxItems; i++) {
            sb.append(i == 0 ? "" : ", ").append(of(it.next()));
        }
        if (items.size() > maxItems) {
            sb.append(", ... and ").append(items.size() - maxItems).append(" more");
        }
        return sb.append(']').toString();
    }

    /** Index of the first lone UTF-16 surrogate of {@code text} (not part of a valid pair), or -1. */
    public static int loneSurrogate(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                    i++;
                    continue;
                }
                return i;
            }
            if (Character.isLowSurrogate(c)) {
                return i;
            }
        }
        return -1;
    }
}
