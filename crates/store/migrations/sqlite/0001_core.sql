-- Switchboard core schema (SQLite). Ids are UUIDv7 (BLOB here, UUID on Postgres); instants
-- are milliseconds since the epoch; JSON is TEXT. Every row carries workspace_id.

CREATE TABLE workspaces (
    id BLOB PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    reopen_window_secs INTEGER NOT NULL DEFAULT 604800,
    close_solved_after_secs INTEGER NOT NULL DEFAULT 345600,
    next_ticket_number INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
);

CREATE TABLE agents (
    id BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at INTEGER NOT NULL
);
-- An e-mail signs in to exactly one workspace.
CREATE UNIQUE INDEX agents_email ON agents (email);
CREATE INDEX agents_workspace ON agents (workspace_id);

CREATE TABLE api_tokens (
    id BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    agent_id BLOB NOT NULL REFERENCES agents(id),
    token_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

CREATE TABLE teams (
    id BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (workspace_id, name)
);

CREATE TABLE team_members (
    workspace_id BLOB NOT NULL,
    team_id BLOB NOT NULL REFERENCES teams(id),
    agent_id BLOB NOT NULL REFERENCES agents(id),
    PRIMARY KEY (team_id, agent_id)
);

CREATE TABLE channel_accounts (
    id BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    external_id TEXT NOT NULL,
    secrets TEXT NOT NULL,
    settings TEXT NOT NULL,
    api_base_url TEXT,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX channel_accounts_external ON channel_accounts (workspace_id, kind, external_id);

CREATE TABLE contacts (
    id BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    name TEXT,
    email TEXT,
    phone TEXT,
    blocked BOOLEAN NOT NULL DEFAULT FALSE,
    merged_into BLOB,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX contacts_workspace ON contacts (workspace_id, updated_at);

CREATE TABLE identities (
    id BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL,
    contact_id BLOB NOT NULL REFERENCES contacts(id),
    channel_account_id BLOB NOT NULL REFERENCES channel_accounts(id),
    external_id TEXT NOT NULL,
    name TEXT,
    phone TEXT,
    email TEXT,
    username TEXT,
    avatar_url TEXT,
    last_inbound_at INTEGER,
    created_at INTEGER NOT NULL,
    UNIQUE (channel_account_id, external_id)
);
CREATE INDEX identities_contact ON identities (contact_id);

CREATE TABLE conversations (
    id BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL,
    channel_account_id BLOB NOT NULL REFERENCES channel_accounts(id),
    kind TEXT NOT NULL,
    thread_key TEXT NOT NULL,
    contact_id BLOB REFERENCES contacts(id),
    title TEXT,
    -- The customer's last message as the platform timestamped it: reply windows count from it.
    last_inbound_at INTEGER,
    created_at INTEGER NOT NULL,
    UNIQUE (channel_account_id, kind, thread_key)
);
CREATE INDEX conversations_contact ON conversations (contact_id);

CREATE TABLE tickets (
    id BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL,
    number INTEGER NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    priority TEXT NOT NULL,
    origin TEXT NOT NULL,
    subject TEXT,
    channel TEXT NOT NULL,
    channel_account_id BLOB NOT NULL REFERENCES channel_accounts(id),
    conversation_id BLOB NOT NULL REFERENCES conversations(id),
    contact_id BLOB REFERENCES contacts(id),
    assignee_id BLOB REFERENCES agents(id),
    team_id BLOB REFERENCES teams(id),
    fields TEXT NOT NULL DEFAULT '{}',
    follow_up_of BLOB REFERENCES tickets(id),
    public_ticket_id BLOB REFERENCES tickets(id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    solved_at INTEGER,
    last_inbound_at INTEGER,
    UNIQUE (workspace_id, number)
);
-- At most one live (not closed, not spam) ticket per conversation: two nodes racing on one
-- customer cannot both open a ticket.
CREATE UNIQUE INDEX tickets_one_live_per_conversation ON tickets (conversation_id)
    WHERE status IN ('new', 'open', 'pending', 'on_hold', 'solved');
CREATE INDEX tickets_conversation ON tickets (conversation_id, created_at);
CREATE INDEX tickets_activity ON tickets (workspace_id, updated_at, id);
CREATE INDEX tickets_assignee ON tickets (workspace_id, assignee_id, status, updated_at);
CREATE INDEX tickets_status ON tickets (workspace_id, status, updated_at);
CREATE INDEX tickets_contact ON tickets (contact_id);

CREATE TABLE ticket_tags (
    workspace_id BLOB NOT NULL,
    ticket_id BLOB NOT NULL REFERENCES tickets(id),
    tag TEXT NOT NULL,
    PRIMARY KEY (ticket_id, tag)
);
CREATE INDEX ticket_tags_tag ON ticket_tags (workspace_id, tag, ticket_id);

CREATE TABLE ticket_participants (
    workspace_id BLOB NOT NULL,
    ticket_id BLOB NOT NULL REFERENCES tickets(id),
    contact_id BLOB NOT NULL REFERENCES contacts(id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (ticket_id, contact_id)
);
CREATE INDEX ticket_participants_contact ON ticket_participants (contact_id);

CREATE TABLE messages (
    id BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL,
    conversation_id BLOB NOT NULL REFERENCES conversations(id),
    ticket_id BLOB REFERENCES tickets(id),
    channel_account_id BLOB NOT NULL REFERENCES channel_accounts(id),
    direction TEXT NOT NULL,
    visibility TEXT NOT NULL,
    author_kind TEXT NOT NULL,
    author_id BLOB,
    body TEXT,
    attachments TEXT NOT NULL DEFAULT '[]',
    template TEXT,
    platform_message_id TEXT,
    delivery_status TEXT,
    error_code TEXT,
    error_message TEXT,
    private_reply_to BLOB REFERENCES messages(id),
    sent_at INTEGER,
    created_at INTEGER NOT NULL
);
-- Platforms redeliver: the platform's id is the idempotency key per account.
CREATE UNIQUE INDEX messages_platform_id ON messages (channel_account_id, platform_message_id);
CREATE INDEX messages_ticket ON messages (ticket_id, created_at);
CREATE INDEX messages_conversation ON messages (conversation_id, created_at);
-- One private reply per comment.
CREATE UNIQUE INDEX messages_one_private_reply ON messages (private_reply_to);

CREATE TABLE events (
    id BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL,
    ticket_id BLOB NOT NULL REFERENCES tickets(id),
    kind TEXT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id BLOB,
    data TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX events_ticket ON events (ticket_id, created_at);

-- Replies waiting to be delivered, written in the same transaction as the message.
CREATE TABLE outbox (
    id BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL,
    message_id BLOB NOT NULL REFERENCES messages(id),
    channel_account_id BLOB NOT NULL REFERENCES channel_accounts(id),
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
