-- Administration (issue 8): deleting a line keeps its tickets (soft delete), each line's
-- health, the workspace's business name and time zone, and the admin audit log.

-- A deleted line stays for the tickets that name it; its platform id may be connected again.
ALTER TABLE channel_accounts ADD COLUMN deleted_at BIGINT;
DROP INDEX channel_accounts_external;
CREATE UNIQUE INDEX channel_accounts_external ON channel_accounts (workspace_id, kind, external_id)
    WHERE deleted_at IS NULL;

-- Health, written at most every few seconds per line and node (never per webhook).
ALTER TABLE channel_accounts ADD COLUMN last_webhook_at BIGINT;
ALTER TABLE channel_accounts ADD COLUMN last_signature_failure_at BIGINT;

-- The last send error of a line is read from the outbox; failures are rare, so a partial index.
CREATE INDEX outbox_errors ON outbox (channel_account_id, created_at) WHERE last_error IS NOT NULL;
CREATE INDEX dead_letters_account ON dead_letters (channel_account_id, received_at);

ALTER TABLE workspaces ADD COLUMN business_name TEXT;
ALTER TABLE workspaces ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';

CREATE TABLE audit_log (
    id UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    agent_id UUID REFERENCES agents(id),
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX audit_log_workspace ON audit_log (workspace_id, created_at);

-- Custom ticket fields: what an admin defines; the values live in tickets.fields by key.
CREATE TABLE ticket_fields (
    id UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    key TEXT NOT NULL,
    label TEXT NOT NULL,
    kind TEXT NOT NULL,
    options TEXT NOT NULL,
    required_on_solve BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (workspace_id, key)
);

-- Macros: a saved reply with placeholders, and the status, tags and assignee it sets.
CREATE TABLE macros (
    id UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    body TEXT,
    status TEXT,
    add_tags TEXT NOT NULL,
    assignee TEXT,
    created_at BIGINT NOT NULL,
    UNIQUE (workspace_id, name)
);
