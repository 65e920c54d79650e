-- Platform webhooks: dead letters, and what receipts, reactions, edits and reply tokens change.

-- Authenticated deliveries that could not be parsed (or named no known line), kept raw so that
-- nothing a platform sent is lost; replayable once the parser is fixed.
CREATE TABLE dead_letters (
    id BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL,
    channel_account_id BLOB NOT NULL REFERENCES channel_accounts(id),
    kind TEXT NOT NULL,
    reason TEXT NOT NULL,
    method TEXT NOT NULL,
    url TEXT NOT NULL,
    query TEXT NOT NULL,
    headers TEXT NOT NULL,
    body BLOB NOT NULL,
    received_at INTEGER NOT NULL,
    replayed_at INTEGER,
    replay_error TEXT
);
CREATE INDEX dead_letters_workspace ON dead_letters (workspace_id, received_at);

ALTER TABLE messages ADD COLUMN reactions TEXT NOT NULL DEFAULT '[]';
ALTER TABLE messages ADD COLUMN edited_at INTEGER;
ALTER TABLE messages ADD COLUMN removed_at INTEGER;

-- LINE hands a reply token with each event: free to use for about a minute.
ALTER TABLE conversations ADD COLUMN reply_token TEXT;
ALTER TABLE conversations ADD COLUMN reply_token_expires_at INTEGER;

-- The customer stopped accepting messages on this line (LINE unfollow, Telegram block, SMS STOP).
ALTER TABLE identities ADD COLUMN subscribed BOOLEAN NOT NULL DEFAULT TRUE;

-- One Meta callback carries entries for several lines: find a line by its platform id.
CREATE INDEX channel_accounts_kind_external ON channel_accounts (kind, external_id);
