-- Platform webhooks: dead letters, and what receipts, reactions, edits and reply tokens change.

-- Authenticated deliveries that could not be parsed (or named no known line), kept raw so that
-- nothing a platform sent is lost; replayable once the parser is fixed.
CREATE TABLE dead_letters (
    id UUID PRIMARY KEY,
    workspace_id UUID NOT NULL,
    channel_account_id UUID NOT NULL REFERENCES channel_accounts(id),
    kind TEXT NOT NULL,
    reason TEXT NOT NULL,
    method TEXT NOT NULL,
    url TEXT NOT NULL,
    query TEXT NOT NULL,
    headers TEXT NOT NULL,
    body BYTEA NOT NULL,
    received_at BIGINT NOT NULL,
    replayed_at BIGINT,
    replay_error TEXT
);
CREATE INDEX dead_letters_workspace ON dead_letters (workspace_id, received_at);

ALTER TABLE messages ADD COLUMN reactions TEXT NOT NULL DEFAULT '[]';
ALTER TABLE messages ADD COLUMN edited_at BIGINT;
ALTER TABLE messages ADD COLUMN removed_at BIGINT;

-- LINE hands a reply token with each event: free to use for about a minute.
ALTER TABLE conversations ADD COLUMN reply_token TEXT;
ALTER TABLE conversations ADD COLUMN reply_token_expires_at BIGINT;

-- The customer stopped accepting messages on this line (LINE unfollow, Telegram block, SMS STOP).
ALTER TABLE identities ADD COLUMN subscribed BOOLEAN NOT NULL DEFAULT TRUE;

-- One Meta callback carries entries for several lines: find a line by its platform id.
CREATE INDEX channel_accounts_kind_external ON channel_accounts (kind, external_id);
