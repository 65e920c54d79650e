-- Outbound delivery: the outbox's claim (crash safety), WhatsApp templates, reply targets.

-- A row being sent is 'sending' from its claim until the outcome is written. One found
-- 'sending' long after its claim means the node stopped mid-send: it is never sent blindly again.
ALTER TABLE outbox ADD COLUMN claimed_at INTEGER;
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;

-- Which public item (comment, tweet) an outbound public reply answers, by its platform id.
ALTER TABLE messages ADD COLUMN reply_to TEXT;

-- The WhatsApp templates of each line: created here or synced from the platform.
CREATE TABLE templates (
    id BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL,
    channel_account_id BLOB NOT NULL REFERENCES channel_accounts(id),
    name TEXT NOT NULL,
    language TEXT NOT NULL,
    category TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (channel_account_id, name, language)
);
