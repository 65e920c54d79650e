-- Files: uploads agents attach to replies, and inbound media fetched from the platforms
-- (cached, one per message attachment). The bytes live on disk; the row says where.
CREATE TABLE files (
    id BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL,
    filename TEXT NOT NULL,
    mime_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    source TEXT NOT NULL,
    message_id BLOB,
    attachment_index INTEGER,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX files_inbound ON files (message_id, attachment_index);

-- Secrets of this installation (the key that signs public media links), made on first use.
CREATE TABLE server_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
