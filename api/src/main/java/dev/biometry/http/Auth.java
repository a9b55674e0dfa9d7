package dev.biometry.http;

import at.favre.lib.crypto.bcrypt.BCrypt;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.biometry.api.Json;
import dev.biometry.api.Timestamps;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Oz authentication (spec §5.1): e-mail and password checked against a bcrypt hash, sessions of an access token
 * (header {@code X-Forensic-Access-Token}) and an {@code expire_token} for {@code POST /api/authorize/refresh/}.
 * Sessions live {@code --session-ttl} (service users {@code --service-session-ttl}) and are extended on use while
 * valid; only SHA-256 digests of the tokens are stored, so a copy of the database holds no usable token.
 */
public final class Auth {

    public static final String TOKEN_HEADER = "X-Forensic-Access-Token";
    public static final String DEMO_EMAIL = "demo@biometry.local";
    public static final String DEMO_PASSWORD = "demo-password";
    private static final int BCRYPT_COST = 10;
    /** A hash compared when the e-mail is unknown, so that both failures take the same time. */
    private static final byte[] DUMMY_HASH = BCrypt.withDefaults().hash(BCRYPT_COST, "no such user".toCharArray());

    private final Store store;
    private final Duration ttl;
    private final Duration serviceTtl;
    private final SecureRandom random = new SecureRandom();

    /** An authenticated caller. */
    public record Principal(Store.User user, String accessHash) {
        public String companyId() {
            return user.companyId();
        }
    }

    public Auth(Store store, Duration ttl, Duration serviceTtl) {
        this.store = store;
        this.ttl = ttl;
        this.serviceTtl = serviceTtl;
    }

    /** A bcrypt hash of {@code password} (the users file stores these). */
    public static String hash(String password) {
        return BCrypt.withDefaults().hashToString(BCRYPT_COST, password.toCharArray());
    }

    /** Creates or replaces a user with its company. */
    public void addUser(String companyId, String companyName, Store.User user) {
        store.upsertCompany(companyId, companyName);
        store.upsertUser(user);
    }

    /** The demo user of local runs ({@value #DEMO_EMAIL} / {@value #DEMO_PASSWORD}) in company "demo". */
    public void addDemoUser() {
        addUser(
                "00000000-0000-4000-8000-000000000001",
                "demo",
                new Store.User(
                        "00000000-0000-4000-8000-000000000002",
                        "00000000-0000-4000-8000-000000000001",
                        DEMO_EMAIL,
                        hash(DEMO_PASSWORD),
                        "CLIENT",
                        "Demo",
                        "User",
                        false,
                        false));
    }

    /**
     * Loads users from a JSON file: {@code [{"email", "password_hash" (bcrypt), "company_id", "company_name",
     * "user_id", "user_type", "first_name", "last_name", "is_admin", "is_service"}]}; ids default to UUIDs made
     * from the e-mail / company name.
     */
    public void loadUsers(Path file) throws IOException {
        JsonNode users = Json.mapper().readTree(Files.readString(file));
        if (!users.isArray()) {
            throw new IOException(file + ": expected a JSON array of users");
        }
        for (JsonNode u : users) {
            String email = u.path("email").asText("");
            String hash = u.path("password_hash").asText("");
            if (email.isBlank() || !hash.startsWith("$2")) {
                throw new IOException(file + ": every user needs email and a bcrypt password_hash");
            }
            String companyName = u.path("company_name").asText("default");
            String companyId = u.path("company_id").asText(nameUuid("company:" + companyName));
            addUser(
                    companyId,
                    companyName,
                    new Store.User(
                            u.path("user_id").asText(nameUuid("user:" + email)),
                            companyId,
                            email,
                            hash,
                            u.path("user_type").asText("CLIENT"),
                            u.path("first_name").asText(null),
                            u.path("last_name").asText(null),
                            u.path("is_admin").asBoolean(false),
                            u.path("is_service").asBoolean(false)));
        }
    }

    private static String nameUuid(String name) {
        return UUID.nameUUIDFromBytes(name.getBytes(StandardCharsets.UTF_8)).toString();
    }

    /** {@code POST /api/authorize/auth/}: the session answer, or error 7 (HTTP 401) for bad credentials. */
    public ObjectNode login(String email, String password) {
        Optional<Store.User> user = store.userByEmail(email);
        byte[] hash =
                user.map(u -> u.passwordHash().getBytes(StandardCharsets.UTF_8)).orElse(DUMMY_HASH);
        boolean ok = BCrypt.verifyer().verify(password.toCharArray(), hash).verified;
        if (user.isEmpty() || !ok) {
            throw new ApiError(ApiError.AUTH_INVALID, "Invalid credentials", null);
        }
        store.deleteExpiredSessions(System.currentTimeMillis());
        return newSession(user.get(), null);
    }

    /**
     * {@code POST /api/authorize/refresh/}: a new pair for a valid {@code expire_token} (the access token may have
     * expired); the old pair stops working. 401 "Session not found", 403 when the header names another session.
     */
    public ObjectNode refresh(String headerToken, String expireToken) {
        Store.Session session = store.sessionByExpire(digest(expireToken))
                .filter(s -> s.refreshUntil() > System.currentTimeMillis())
                .orElseThrow(() -> new ApiError(ApiError.AUTH_INVALID, "Session not found", null));
        if (headerToken != null
                && !headerToken.isBlank()
                && !digest(headerToken).equals(session.accessHash())) {
            throw ApiError.forbidden("You have not access to refresh this session");
        }
        Store.User user = store.user(session.userId())
                .orElseThrow(() -> new ApiError(ApiError.AUTH_INVALID, "Session not found", null));
        return newSession(user, session.accessHash());
    }

    private ObjectNode newSession(Store.User user, String replacing) {
        String access = token();
        String expire = token();
        long now = System.currentTimeMillis();
        long expiresAt = now + ttlOf(user).toMillis();
        Store.Session session = new Store.Session(
                digest(access),
                digest(expire),
                user.userId(),
                expiresAt,
                expiresAt + ttlOf(user).toMillis());
        if (replacing == null) {
            store.insertSession(session);
        } else if (!store.replaceSession(replacing, session)) {
            throw new ApiError(ApiError.AUTH_INVALID, "Session not found", null);
        }
        ObjectNode out = Json.mapper().createObjectNode();
        out.put("access_token", access);
        out.put("expire_token", expire);
        out.put("expire_date", Timestamps.epochSeconds(expiresAt));
        out.set("user", userJson(user));
        return out;
    }

    /** The caller of a request: error 6 without a token, 7 for an unknown one, 8 for an expired one (all 401). */
    public Principal authenticate(String token) {
        if (token == null || token.isBlank()) {
            throw new ApiError(
                    ApiError.AUTH_NOT_PROVIDED, "Authentication credentials were not provided", TOKEN_HEADER);
        }
        String hash = digest(token.trim());
        Map.Entry<Store.Session, Store.User> found = store.sessionWithUser(hash)
                .orElseThrow(() -> new ApiError(ApiError.AUTH_INVALID, "Session not found", null));
        Store.Session session = found.getKey();
        Store.User user = found.getValue();
        long now = System.currentTimeMillis();
        if (session.expiresAt() <= now) {
            throw new ApiError(ApiError.AUTH_EXPIRED, "Session expired", null);
        }
        long ttlMillis = ttlOf(user).toMillis();
        // Extended on use, but written at most once per tenth of the lifetime.
        if (session.expiresAt() - now < ttlMillis - ttlMillis / 10) {
            store.extendSession(hash, now + ttlMillis, now + 2 * ttlMillis);
        }
        return new Principal(user, hash);
    }

    private Duration ttlOf(Store.User user) {
        return user.service() ? serviceTtl : ttl;
    }

    static ObjectNode userJson(Store.User user) {
        ObjectNode u = Json.mapper().createObjectNode();
        u.put("user_id", user.userId());
        u.put("company_id", user.companyId());
        u.put("email", user.email());
        u.put("user_type", user.userType());
        u.put("first_name", user.firstName());
        u.put("last_name", user.lastName());
        u.put("is_admin", user.admin());
        u.put("is_service", user.service());
        return u;
    }

    private String token() {
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    static String digest(String token) {
        try {
            return HexFormat.of()
                    .formatHex(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
