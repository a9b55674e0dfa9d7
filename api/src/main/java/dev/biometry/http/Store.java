package dev.biometry.http;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;

/**
 * The API's database: companies, users, sessions, folders (with their meta_data index), media and analyses, in
 * PostgreSQL or embedded H2 (PostgreSQL mode) behind a HikariCP pool; the schema is migrated by Flyway at start
 * ({@code db/migration}). Plain JDBC: every method is one short transaction.
 */
public final class Store implements AutoCloseable {

    /** A user as stored: the bcrypt hash never leaves this class except to the password check. */
    public record User(
            String userId,
            String companyId,
            String email,
            String passwordHash,
            String userType,
            String firstName,
            String lastName,
            boolean admin,
            boolean service) {}

    /** A session row: token digests, owner, expiry of the access token and of the refresh window (epoch ms). */
    public record Session(String accessHash, String expireHash, String userId, long expiresAt, long refreshUntil) {}

    /** A folder row; {@code metaData} and {@code rollup} are JSON text or null. */
    public record Folder(
            String folderId,
            String companyId,
            String userId,
            String resolutionStatus,
            String metaData,
            String rollup,
            long timeCreated,
            long timeUpdated) {}

    /** A media row; {@code tags} is a JSON array, {@code filePath} where the media store keeps the bytes. */
    public record Media(
            String mediaId,
            String folderId,
            int seq,
            String mediaType,
            String tags,
            String originalName,
            String metaData,
            String filePath,
            long sizeBytes,
            long timeCreated) {}

    /** An analysis row: the object made at creation and the latest record of the results topic (or null). */
    public record Analysis(
            String analyseId,
            String folderId,
            String type,
            String state,
            String resolutionStatus,
            String createdJson,
            String resultJson,
            long timeCreated,
            long timeUpdated) {}

    /** Filters of {@code GET /api/folders/}: null = no bound. */
    public record FolderQuery(
            String companyId,
            Long createdMin,
            Long createdMax,
            Long updatedMin,
            Long updatedMax,
            List<String> statuses,
            Map<String, String> metaEquals,
            Map<String, String> metaNotEquals,
            String sortColumn,
            boolean ascending,
            int offset,
            int limit) {}

    private final HikariDataSource dataSource;

    private Store(HikariDataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** Opens the pool and migrates the schema. */
    public static Store open(String url, String user, String password, int poolSize) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        config.setUsername(user);
        config.setPassword(password);
        config.setMaximumPoolSize(poolSize);
        config.setPoolName("biometry-api");
        HikariDataSource ds = new HikariDataSource(config);
        try {
            Flyway.configure()
                    .dataSource(ds)
                    .locations("classpath:db/migration")
                    .load()
                    .migrate();
        } catch (RuntimeException e) {
            ds.close();
            throw e;
        }
        return new Store(ds);
    }

    public DataSource dataSource() {
        return dataSource;
    }

    // ---- users and sessions

    public void upsertCompany(String companyId, String name) {
        tx(c -> {
            if (!exists(c, "SELECT 1 FROM companies WHERE company_id = ?", companyId)) {
                update(c, "INSERT INTO companies (company_id, name) VALUES (?, ?)", companyId, name);
            }
            return null;
        });
    }

    /** Inserts the user or replaces the stored one with the same e-mail. */
    public void upsertUser(User u) {
        tx(c -> {
            update(c, "DELETE FROM users WHERE email = ? AND user_id <> ?", u.email(), u.userId());
            if (exists(c, "SELECT 1 FROM users WHERE user_id = ?", u.userId())) {
                update(
                        c,
                        "UPDATE users SET company_id = ?, email = ?, password_hash = ?, user_type = ?, first_name = ?,"
                                + " last_name = ?, is_admin = ?, is_service = ? WHERE user_id = ?",
                        u.companyId(),
                        u.email(),
                        u.passwordHash(),
                        u.userType(),
                        u.firstName(),
                        u.lastName(),
                        u.admin(),
                        u.service(),
                        u.userId());
            } else {
                update(
                        c,
                        "INSERT INTO users (user_id, company_id, email, password_hash, user_type, first_name,"
                                + " last_name, is_admin, is_service) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        u.userId(),
                        u.companyId(),
                        u.email(),
                        u.passwordHash(),
                        u.userType(),
                        u.firstName(),
                        u.lastName(),
                        u.admin(),
                        u.service());
            }
            return null;
        });
    }

    public Optional<User> userByEmail(String email) {
        return one("SELECT * FROM users WHERE lower(email) = lower(?)", Store::user, email);
    }

    public Optional<User> user(String userId) {
        return one("SELECT * FROM users WHERE user_id = ?", Store::user, userId);
    }

    public void insertSession(Session s) {
        tx(c -> update(
                c,
                "INSERT INTO sessions (access_hash, expire_hash, user_id, expires_at, refresh_until)"
                        + " VALUES (?, ?, ?, ?, ?)",
                s.accessHash(),
                s.expireHash(),
                s.userId(),
                s.expiresAt(),
                s.refreshUntil()));
    }

    /** The session of an access token with its user, in one query. */
    public Optional<Map.Entry<Session, User>> sessionWithUser(String accessHash) {
        return one(
                "SELECT s.access_hash, s.expire_hash, s.expires_at, s.refresh_until, u.* FROM sessions s"
                        + " JOIN users u ON u.user_id = s.user_id WHERE s.access_hash = ?",
                rs -> Map.entry(session(rs), user(rs)),
                accessHash);
    }

    public Optional<Session> sessionByExpire(String expireHash) {
        return one("SELECT * FROM sessions WHERE expire_hash = ?", Store::session, expireHash);
    }

    public void extendSession(String accessHash, long expiresAt, long refreshUntil) {
        tx(c -> update(
                c,
                "UPDATE sessions SET expires_at = ?, refresh_until = ? WHERE access_hash = ?",
                expiresAt,
                refreshUntil,
                accessHash));
    }

    /** Replaces a session by a new one (refresh): the old pair stops working at once. */
    public boolean replaceSession(String oldAccessHash, Session next) {
        return tx(c -> {
            if (update(c, "DELETE FROM sessions WHERE access_hash = ?", oldAccessHash) != 1) {
                return false;
            }
            update(
                    c,
                    "INSERT INTO sessions (access_hash, expire_hash, user_id, expires_at, refresh_until)"
                            + " VALUES (?, ?, ?, ?, ?)",
                    next.accessHash(),
                    next.expireHash(),
                    next.userId(),
                    next.expiresAt(),
                    next.refreshUntil());
            return true;
        });
    }

    public void deleteExpiredSessions(long now) {
        tx(c -> update(c, "DELETE FROM sessions WHERE refresh_until < ?", now));
    }

    // ---- folders and media

    /** Inserts a folder with its media and meta_data index. */
    public void insertFolder(Folder f, Map<String, String> metaIndex, List<Media> media) {
        tx(c -> {
            update(
                    c,
                    "INSERT INTO folders (folder_id, company_id, user_id, resolution_status, meta_data, rollup,"
                            + " time_created, time_updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    f.folderId(),
                    f.companyId(),
                    f.userId(),
                    f.resolutionStatus(),
                    f.metaData(),
                    f.rollup(),
                    f.timeCreated(),
                    f.timeUpdated());
            for (Map.Entry<String, String> e : metaIndex.entrySet()) {
                update(
                        c,
                        "INSERT INTO folder_meta (folder_id, meta_key, meta_value) VALUES (?, ?, ?)",
                        f.folderId(),
                        e.getKey(),
                        e.getValue());
            }
            insertMedia(c, media);
            return null;
        });
    }

    /** Adds media to a folder unless that would exceed {@code maxFiles}; false when it would. */
    public boolean addMedia(String folderId, List<Media> media, int maxFiles, long now) {
        return tx(c -> {
            // Lock the folder row so that concurrent uploads cannot both pass the count check.
            one(c, "SELECT folder_id FROM folders WHERE folder_id = ? FOR UPDATE", rs -> rs.getString(1), folderId);
            long count = one(c, "SELECT count(*) FROM media WHERE folder_id = ?", rs -> rs.getLong(1), folderId)
                    .orElse(0L);
            if (count + media.size() > maxFiles) {
                return false;
            }
            insertMedia(c, media);
            update(c, "UPDATE folders SET time_updated = ? WHERE folder_id = ?", now, folderId);
            return true;
        });
    }

    private static void insertMedia(Connection c, List<Media> media) throws SQLException {
        for (Media m : media) {
            update(
                    c,
                    "INSERT INTO media (media_id, folder_id, seq, media_type, tags, original_name, meta_data,"
                            + " file_path, size_bytes, time_created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    m.mediaId(),
                    m.folderId(),
                    m.seq(),
                    m.mediaType(),
                    m.tags(),
                    m.originalName(),
                    m.metaData(),
                    m.filePath(),
                    m.sizeBytes(),
                    m.timeCreated());
        }
    }

    public void deleteMedia(Collection<String> mediaIds) {
        tx(c -> {
            for (String id : mediaIds) {
                update(c, "DELETE FROM media WHERE media_id = ?", id);
            }
            return null;
        });
    }

    public void deleteFolder(String folderId) {
        tx(c -> update(c, "DELETE FROM folders WHERE folder_id = ?", folderId));
    }

    public Optional<Folder> folder(String folderId) {
        return one("SELECT * FROM folders WHERE folder_id = ?", Store::folder, folderId);
    }

    public List<Media> mediaOfFolder(String folderId) {
        return list("SELECT * FROM media WHERE folder_id = ? ORDER BY seq, time_created", Store::media, folderId);
    }

    public Optional<Media> media(String mediaId) {
        return one("SELECT * FROM media WHERE media_id = ?", Store::media, mediaId);
    }

    /** One page of a company's folders and the total count matching the filters. */
    public Map.Entry<Long, List<Folder>> folders(FolderQuery q) {
        StringBuilder where = new StringBuilder(" WHERE f.company_id = ?");
        List<Object> params = new ArrayList<>(List.of(q.companyId()));
        bound(where, params, "f.time_created >= ?", q.createdMin());
        bound(where, params, "f.time_created <= ?", q.createdMax());
        bound(where, params, "f.time_updated >= ?", q.updatedMin());
        bound(where, params, "f.time_updated <= ?", q.updatedMax());
        if (q.statuses() != null && !q.statuses().isEmpty()) {
            where.append(" AND f.resolution_status IN (")
                    .append("?,".repeat(q.statuses().size() - 1))
                    .append("?)");
            params.addAll(q.statuses());
        }
        q.metaEquals().forEach((k, v) -> {
            where.append(" AND EXISTS (SELECT 1 FROM folder_meta m WHERE m.folder_id = f.folder_id"
                    + " AND m.meta_key = ? AND m.meta_value = ?)");
            params.add(k);
            params.add(v);
        });
        q.metaNotEquals().forEach((k, v) -> {
            where.append(" AND NOT EXISTS (SELECT 1 FROM folder_meta m WHERE m.folder_id = f.folder_id"
                    + " AND m.meta_key = ? AND m.meta_value = ?)");
            params.add(k);
            params.add(v);
        });
        return tx(c -> {
            long total = one(c, "SELECT count(*) FROM folders f" + where, rs -> rs.getLong(1), params.toArray())
                    .orElse(0L);
            List<Object> pageParams = new ArrayList<>(params);
            pageParams.add(q.limit());
            pageParams.add(q.offset());
            // sortColumn is one of two fixed names chosen by the caller, never client text.
            List<Folder> page = list(
                    c,
                    "SELECT f.* FROM folders f" + where + " ORDER BY f." + q.sortColumn()
                            + (q.ascending() ? " ASC" : " DESC") + ", f.folder_id LIMIT ? OFFSET ?",
                    Store::folder,
                    pageParams.toArray());
            return Map.entry(total, page);
        });
    }

    private static void bound(StringBuilder where, List<Object> params, String clause, Long value) {
        if (value != null) {
            where.append(" AND ").append(clause);
            params.add(value);
        }
    }

    // ---- analyses

    /** Inserts analyses (state PROCESSING) and marks their folder PROCESSING. */
    public void insertAnalyses(String folderId, List<Analysis> analyses, long now) {
        tx(c -> {
            for (Analysis a : analyses) {
                update(
                        c,
                        "INSERT INTO analyses (analyse_id, folder_id, type, state, resolution_status, created_json,"
                                + " result_json, time_created, time_updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        a.analyseId(),
                        a.folderId(),
                        a.type(),
                        a.state(),
                        a.resolutionStatus(),
                        a.createdJson(),
                        a.resultJson(),
                        a.timeCreated(),
                        a.timeUpdated());
            }
            update(
                    c,
                    "UPDATE folders SET resolution_status = 'PROCESSING', time_updated = ? WHERE folder_id = ?",
                    now,
                    folderId);
            return null;
        });
    }

    /** Removes analyses that could not be published, and puts the folder status back as it was. */
    public void deleteAnalyses(String folderId, Collection<String> analyseIds, String previousStatus) {
        tx(c -> {
            for (String id : analyseIds) {
                update(c, "DELETE FROM analyses WHERE analyse_id = ?", id);
            }
            update(c, "UPDATE folders SET resolution_status = ? WHERE folder_id = ?", previousStatus, folderId);
            return null;
        });
    }

    /** An analysis with the company owning its folder, in one query. */
    public Optional<Map.Entry<Analysis, String>> analysisWithCompany(String analyseId) {
        return one(
                "SELECT a.*, f.company_id FROM analyses a JOIN folders f ON f.folder_id = a.folder_id"
                        + " WHERE a.analyse_id = ?",
                rs -> Map.entry(analysis(rs), rs.getString("company_id")),
                analyseId);
    }

    public Optional<Analysis> analysis(String analyseId) {
        return one("SELECT * FROM analyses WHERE analyse_id = ?", Store::analysis, analyseId);
    }

    public List<Analysis> analysesOfFolder(String folderId) {
        return list(
                "SELECT * FROM analyses WHERE folder_id = ? ORDER BY time_created, analyse_id",
                Store::analysis,
                folderId);
    }

    /**
     * Stores a record of the results topic for a known analysis. A PROCESSING record never replaces a final one
     * (a redelivered record after a rebalance); returns false for an analysis this API did not create.
     */
    public boolean applyResult(String analyseId, String state, String resolutionStatus, String json, long now) {
        return tx(c -> update(
                        c,
                        "UPDATE analyses SET state = ?, resolution_status = ?, result_json = ?,"
                                + " time_updated = ? WHERE analyse_id = ? AND (state = 'PROCESSING' OR ? <> 'PROCESSING')",
                        state,
                        resolutionStatus,
                        json,
                        now,
                        analyseId,
                        state)
                == 1);
    }

    /**
     * Stores a folder roll-up of the folders topic. Its status is taken only when it covers every analysis this API
     * has started on the folder (else an older roll-up would hide a newer analysis).
     */
    public boolean applyRollup(String folderId, String status, String json, List<String> analyseIds, long now) {
        return tx(c -> {
            StringBuilder sql = new StringBuilder("UPDATE folders SET rollup = ?, time_updated = ?,"
                    + " resolution_status = CASE WHEN NOT EXISTS (SELECT 1 FROM analyses a WHERE a.folder_id = ?");
            List<Object> params = new ArrayList<>(List.of(json, now, folderId));
            if (!analyseIds.isEmpty()) {
                sql.append(" AND a.analyse_id NOT IN (")
                        .append("?,".repeat(analyseIds.size() - 1))
                        .append("?)");
                params.addAll(analyseIds);
            }
            sql.append(") AND EXISTS (SELECT 1 FROM analyses a WHERE a.folder_id = ?) THEN ? ELSE resolution_status"
                    + " END WHERE folder_id = ?");
            params.add(folderId);
            params.add(status);
            params.add(folderId);
            return update(c, sql.toString(), params.toArray()) == 1;
        });
    }

    // ---- JDBC plumbing

    @FunctionalInterface
    interface Rows<T> {
        T map(ResultSet rs) throws SQLException;
    }

    @FunctionalInterface
    interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    private <T> T tx(Work<T> work) {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                T result = work.run(c);
                c.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new StoreException(e);
        }
    }

    /** A single read in auto-commit mode (no transaction round trips). */
    private <T> T read(Work<T> work) {
        try (Connection c = dataSource.getConnection()) {
            return work.run(c);
        } catch (SQLException e) {
            throw new StoreException(e);
        }
    }

    private <T> Optional<T> one(String sql, Rows<T> rows, Object... params) {
        return read(c -> one(c, sql, rows, params));
    }

    private <T> List<T> list(String sql, Rows<T> rows, Object... params) {
        return read(c -> list(c, sql, rows, params));
    }

    private static <T> Optional<T> one(Connection c, String sql, Rows<T> rows, Object... params) throws SQLException {
        List<T> all = list(c, sql, rows, params);
        return all.isEmpty() ? Optional.empty() : Optional.of(all.get(0));
    }

    private static <T> List<T> list(Connection c, String sql, Rows<T> rows, Object... params) throws SQLException {
        try (PreparedStatement ps = prepare(c, sql, params);
                ResultSet rs = ps.executeQuery()) {
            List<T> out = new ArrayList<>();
            while (rs.next()) {
                out.add(rows.map(rs));
            }
            return out;
        }
    }

    private static boolean exists(Connection c, String sql, Object... params) throws SQLException {
        return one(c, sql, rs -> Boolean.TRUE, params).isPresent();
    }

    private static int update(Connection c, String sql, Object... params) throws SQLException {
        try (PreparedStatement ps = prepare(c, sql, params)) {
            return ps.executeUpdate();
        }
    }

    private static PreparedStatement prepare(Connection c, String sql, Object... params) throws SQLException {
        PreparedStatement ps = c.prepareStatement(sql);
        for (int i = 0; i < params.length; i++) {
            ps.setObject(i + 1, params[i]);
        }
        return ps;
    }

    private static User user(ResultSet rs) throws SQLException {
        return new User(
                rs.getString("user_id"),
                rs.getString("company_id"),
                rs.getString("email"),
                rs.getString("password_hash"),
                rs.getString("user_type"),
                rs.getString("first_name"),
                rs.getString("last_name"),
                rs.getBoolean("is_admin"),
                rs.getBoolean("is_service"));
    }

    private static Session session(ResultSet rs) throws SQLException {
        return new Session(
                rs.getString("access_hash"),
                rs.getString("expire_hash"),
                rs.getString("user_id"),
                rs.getLong("expires_at"),
                rs.getLong("refresh_until"));
    }

    private static Folder folder(ResultSet rs) throws SQLException {
        return new Folder(
                rs.getString("folder_id"),
                rs.getString("company_id"),
                rs.getString("user_id"),
                rs.getString("resolution_status"),
                rs.getString("meta_data"),
                rs.getString("rollup"),
                rs.getLong("time_created"),
                rs.getLong("time_updated"));
    }

    private static Media media(ResultSet rs) throws SQLException {
        return new Media(
                rs.getString("media_id"),
                rs.getString("folder_id"),
                rs.getInt("seq"),
                rs.getString("media_type"),
                rs.getString("tags"),
                rs.getString("original_name"),
                rs.getString("meta_data"),
                rs.getString("file_path"),
                rs.getLong("size_bytes"),
                rs.getLong("time_created"));
    }

    private static Analysis analysis(ResultSet rs) throws SQLException {
        return new Analysis(
                rs.getString("analyse_id"),
                rs.getString("folder_id"),
                rs.getString("type"),
                rs.getString("state"),
                rs.getString("resolution_status"),
                rs.getString("created_json"),
                rs.getString("result_json"),
                rs.getLong("time_created"),
                rs.getLong("time_updated"));
    }

    /** A database failure (answered as error 0, HTTP 500). */
    public static final class StoreException extends RuntimeException {
        StoreException(SQLException e) {
            super("database error: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        dataSource.close();
    }
}
