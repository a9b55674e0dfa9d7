-- The HTTP API's store. Portable SQL: PostgreSQL and H2 in PostgreSQL mode. Times are epoch milliseconds;
-- JSON documents (meta_data, tags, analysis objects) are stored as text and served as they are.
CREATE TABLE companies (
    company_id VARCHAR(64) PRIMARY KEY,
    name VARCHAR(256) NOT NULL
);

CREATE TABLE users (
    user_id VARCHAR(64) PRIMARY KEY,
    company_id VARCHAR(64) NOT NULL REFERENCES companies (company_id),
    email VARCHAR(320) NOT NULL UNIQUE,
    password_hash VARCHAR(200) NOT NULL,
    user_type VARCHAR(32) NOT NULL,
    first_name VARCHAR(256),
    last_name VARCHAR(256),
    is_admin BOOLEAN NOT NULL,
    is_service BOOLEAN NOT NULL
);

-- Tokens are kept as SHA-256 hex digests only.
CREATE TABLE sessions (
    access_hash CHAR(64) PRIMARY KEY,
    expire_hash CHAR(64) NOT NULL UNIQUE,
    user_id VARCHAR(64) NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL,
    refresh_until BIGINT NOT NULL
);
CREATE INDEX sessions_expires ON sessions (refresh_until);

CREATE TABLE folders (
    folder_id VARCHAR(64) PRIMARY KEY,
    company_id VARCHAR(64) NOT NULL REFERENCES companies (company_id),
    user_id VARCHAR(64) NOT NULL,
    resolution_status VARCHAR(32) NOT NULL,
    meta_data TEXT,
    rollup TEXT,
    time_created BIGINT NOT NULL,
    time_updated BIGINT NOT NULL
);
CREATE INDEX folders_company_created ON folders (company_id, time_created);

-- Top-level scalar meta_data entries of each folder, for meta_data=key==value filters.
CREATE TABLE folder_meta (
    folder_id VARCHAR(64) NOT NULL REFERENCES folders (folder_id) ON DELETE CASCADE,
    meta_key VARCHAR(256) NOT NULL,
    meta_value VARCHAR(1024) NOT NULL,
    PRIMARY KEY (folder_id, meta_key)
);
CREATE INDEX folder_meta_key_value ON folder_meta (meta_key, meta_value);

CREATE TABLE media (
    media_id VARCHAR(64) PRIMARY KEY,
    folder_id VARCHAR(64) NOT NULL REFERENCES folders (folder_id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    media_type VARCHAR(32) NOT NULL,
    tags TEXT NOT NULL,
    original_name VARCHAR(512),
    meta_data TEXT,
    file_path VARCHAR(1024) NOT NULL,
    size_bytes BIGINT NOT NULL,
    time_created BIGINT NOT NULL
);
CREATE INDEX media_folder ON media (folder_id, seq);

CREATE TABLE analyses (
    analyse_id VARCHAR(64) PRIMARY KEY,
    folder_id VARCHAR(64) NOT NULL REFERENCES folders (folder_id) ON DELETE CASCADE,
    type VARCHAR(32) NOT NULL,
    state VARCHAR(32) NOT NULL,
    resolution_status VARCHAR(32) NOT NULL,
    created_json TEXT NOT NULL,
    result_json TEXT,
    time_created BIGINT NOT NULL,
    time_updated BIGINT NOT NULL
);
CREATE INDEX analyses_folder ON analyses (folder_id, time_created);
