package dev.biometry.media;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ProtocolException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The few pieces of HTTP/1.1 that {@link HttpMediaFetcher} and {@link HttpPoster} need, over a socket already
 * connected: one request with {@code Connection: close}, the response head, and a body framed by
 * {@code Content-Length}, chunked transfer coding or the end of the connection. Sizes are bounded everywhere;
 * nothing is decompressed.
 */
final class Http11Wire {

    private static final int MAX_LINE = 8 * 1024;
    private static final int MAX_HEADER_LINES = 200;
    private static final int MAX_INTERIM_RESPONSES = 10;

    private Http11Wire() {}

    /** A response status line and its headers (names lower-cased). */
    record Head(int status, List<String[]> headers) {

        /** Every value of the header {@code name} (lower case), in order. */
        List<String> values(String name) {
            List<String> out = new ArrayList<>();
            for (String[] header : headers) {
                if (header[0].equals(name)) {
                    out.add(header[1]);
                }
            }
            return out;
        }

        String first(String name) {
            List<String> all = values(name);
            return all.isEmpty() ? null : all.get(0);
        }
    }

    /** The body declares or reaches more bytes than allowed. */
    static final class BodyTooLargeException extends IOException {
        private static final long serialVersionUID = 1L;

        final long declared;

        BodyTooLargeException(long declared) {
            super(declared >= 0 ? "declared length " + declared + " exceeds the limit" : "body exceeds the limit");
            this.declared = declared;
        }
    }

    static void writeRequest(OutputStream out, String target, String hostHeader) throws IOException {
        writeRequest(out, "GET", target, hostHeader, List.of(
                Map.entry("User-Agent", "biometry-media-fetcher"),
                Map.entry("Accept", "*/*"),
                Map.entry("Accept-Encoding", "identity")), null);
    }

    /**
     * Writes one request with {@code Connection: close}: request line, {@code Host}, {@code headers} in order, then
     * {@code Content-Length} and the body when {@code body} is not null.
     *
     * @throws IllegalArgumentException for a header name that is not an HTTP token or a value with control characters
     *     (no header injection)
     */
    static void writeRequest(OutputStream out, String method, String target, String hostHeader,
            List<Map.Entry<String, String>> headers, byte[] body) throws IOException {
        StringBuilder request = new StringBuilder()
                .append(method).append(' ').append(target).append(" HTTP/1.1\r\n")
                .append("Host: ").append(hostHeader).append("\r\n");
        for (Map.Entry<String, String> header : headers) {
            checkHeader(header.getKey(), header.getValue());
            request.append(header.getKey()).append(": ").append(header.getValue()).append("\r\n");
        }
        if (body != null) {
            request.append("Content-Length: ").append(body.length).append("\r\n");
        }
        request.append("Connection: close\r\n\r\n");
        out.write(request.toString().getBytes(StandardCharsets.ISO_8859_1));
        if (body != null) {
            out.write(body);
        }
        out.flush();
    }

    private static void checkHeader(String name, String value) {
        boolean token = !name.isEmpty()
                && name.chars().allMatch(c -> c > 0x20 && c < 0x7F && "()<>@,;:\\\"/[]?={}".indexOf(c) < 0);
        if (!token) {
            throw new IllegalArgumentException("invalid header name: " + name);
        }
        if (!value.chars().allMatch(c -> (c >= 0x20 && c != 0x7F && c <= 0xFF) || c == '\t')) {
            throw new IllegalArgumentException("invalid value of header " + name);
        }
    }

    /** Reads the status line and headers, skipping interim 1xx responses. */
    static Head readHead(InputStream in) throws IOException {
        for (int interim = 0; interim <= MAX_INTERIM_RESPONSES; interim++) {
            String statusLine = readLine(in);
            // "HTTP/1.1 200 OK"; the reason phrase is optional.
            if (!statusLine.startsWith("HTTP/1.") || statusLine.length() < 12 || statusLine.charAt(8) != ' ') {
                throw new ProtocolException("malformed status line");
            }
            int status;
            try {
                status = Integer.parseInt(statusLine.substring(9, 12));
            } catch (NumberFormatException e) {
                throw new ProtocolException("malformed status line");
            }
            if (status < 100 || status > 599 || (statusLine.length() > 12 && statusLine.charAt(12) != ' ')) {
                throw new ProtocolException("malformed status line");
            }
            List<String[]> headers = new ArrayList<>();
            for (String line = readLine(in); !line.isEmpty(); line = readLine(in)) {
                if (headers.size() >= MAX_HEADER_LINES) {
                    throw new ProtocolException("too many header lines");
                }
                int colon = line.indexOf(':');
                if (colon <= 0 || line.charAt(0) == ' ' || line.charAt(0) == '\t') {
                    throw new ProtocolException("malformed header line");
                }
                headers.add(new String[] {
                    line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim()});
            }
            if (status >= 200) {
                return new Head(status, headers);
            }
        }
        throw new ProtocolException("too many interim responses");
    }

    /**
     * Reads the body of a response whose head was {@code head}, at most {@code maxBytes} of it.
     *
     * @throws BodyTooLargeException as soon as the declared or the received length exceeds {@code maxBytes}
     */
    static byte[] readBody(InputStream in, Head head, long maxBytes) throws IOException {
        List<String> transferEncodings = head.values("transfer-encoding");
        if (!transferEncodings.isEmpty()) {
            String last = transferEncodings.get(transferEncodings.size() - 1);
            String[] codings = last.split(",");
            if (codings[codings.length - 1].trim().equalsIgnoreCase("chunked")) {
                return readChunked(in, maxBytes);
            }
            return readUntilClose(in, maxBytes); // RFC 9112 §6.3: a response not ending in chunked runs to close
        }
        long length = contentLength(head);
        if (length < 0) {
            return readUntilClose(in, maxBytes);
        }
        if (length > maxBytes) {
            throw new BodyTooLargeException(length);
        }
        byte[] body = in.readNBytes((int) length);
        if (body.length < length) {
            throw new EOFException("body truncated at " + body.length + " of " + length + " bytes");
        }
        return body;
    }

    private static long contentLength(Head head) throws ProtocolException {
        long length = -1;
        for (String value : head.values("content-length")) {
            for (String part : value.split(",")) {
                long parsed;
                try {
                    parsed = Long.parseLong(part.trim());
                } catch (NumberFormatException e) {
                    throw new ProtocolException("malformed Content-Length");
                }
                if (parsed < 0 || (length >= 0 && parsed != length)) {
                    throw new ProtocolException("malformed Content-Length");
                }
                length = parsed;
            }
        }
        return length;
    }

    private static byte[] readChunked(InputStream in, long maxBytes) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        long total = 0;
        while (true) {
            String sizeLine = readLine(in);
            int semicolon = sizeLine.indexOf(';'); // chunk extensions are ignored
            String hex = (semicolon >= 0 ? sizeLine.substring(0, semicolon) : sizeLine).trim();
            long size;
            try {
                if (hex.isEmpty() || hex.length() > 15) {
                    throw new NumberFormatException();
                }
                size = Long.parseLong(hex, 16);
            } catch (NumberFormatException e) {
                throw new ProtocolException("malformed chunk size");
            }
            if (size == 0) {
                for (String trailer = readLine(in); !trailer.isEmpty(); trailer = readLine(in)) {
                    // trailers are read and dropped
                }
                return out.toByteArray();
            }
            total += size;
            if (total > maxBytes) {
                throw new BodyTooLargeException(-1);
            }
            byte[] chunk = in.readNBytes((int) size);
            if (chunk.length < size) {
                throw new EOFException("chunked body truncated");
            }
            out.write(chunk);
            if (!readLine(in).isEmpty()) {
                throw new ProtocolException("malformed chunk end");
            }
        }
    }

    private static byte[] readUntilClose(InputStream in, long maxBytes) throws IOException {
        byte[] body = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1));
        if (body.length > maxBytes) {
            throw new BodyTooLargeException(-1);
        }
        return body;
    }

    /** One CRLF- (or LF-) terminated line in ISO-8859-1, without its terminator. */
    private static String readLine(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        while (true) {
            int c = in.read();
            if (c < 0) {
                throw new EOFException("connection closed mid-response");
            }
            if (c == '\n') {
                int end = line.length();
                if (end > 0 && line.charAt(end - 1) == '\r') {
                    line.setLength(end - 1);
                }
                return line.toString();
            }
            if (line.length() >= MAX_LINE) {
                throw new ProtocolException("response line longer than " + MAX_LINE + " bytes");
            }
            line.append((char) c);
        }
    }

    /**
     * Bounds every read by the time left until a fixed deadline, so a server that trickles bytes cannot keep a
     * fetch alive past its total timeout.
     */
    static final class DeadlineInputStream extends FilterInputStream {

        private final Socket socket;
        private final long deadlineNanos;

        DeadlineInputStream(Socket socket, long deadlineNanos) throws IOException {
            super(socket.getInputStream());
            this.socket = socket;
            this.deadlineNanos = deadlineNanos;
        }

        @Override
        public int read() throws IOException {
            arm();
            return super.read();
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            arm();
            return super.read(b, off, len);
        }

        private void arm() throws IOException {
            long remainingMillis = (deadlineNanos - System.nanoTime()) / 1_000_000;
            if (remainingMillis <= 0) {
                throw new SocketTimeoutException("total timeout reached");
            }
            socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, remainingMillis));
        }
    }
}
