-- Files: uploads agents attach to replies, and inbound media fetched from the platforms
-- (cached, one per message attachment). The bytes live on disk; the row says where.
CREATE TABLE files (
    id UUID PRIMARY KEY,
    workspace_id UUID NOT NULL,
    filename TEXT NOT NULL,
    mime_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    source TEXT NOT NULL,
    message_id UUID,
    attachment_index BIGINT,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX files_inbound ON files (message_id, attachment_index);

-- Secrets of this installation (the key that signs public media links), made on first use.
CREATE TABLE server_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
