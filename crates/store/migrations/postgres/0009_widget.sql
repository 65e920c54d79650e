-- The website widget (DESIGN §6): its visitors and what they have read.
-- A visitor's token is kept only as its SHA-256, like API tokens and sessions. `external_id`
-- is the visitor's identity on the widget line: `visitor:<id>` while anonymous, `user:<id>`
-- once the host site has vouched for them; the identity (and so the contact) is found by it.
CREATE TABLE widget_visitors (
    id UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    channel_account_id UUID NOT NULL REFERENCES channel_accounts(id),
    token_hash TEXT NOT NULL UNIQUE,
    external_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);

-- Up to when the customer has read a widget conversation: agent messages after it badge the
-- Messages space, a ticket created or resolved/reopened after it badges the Tickets space.
CREATE TABLE widget_reads (
    conversation_id UUID PRIMARY KEY REFERENCES conversations(id),
    workspace_id UUID NOT NULL,
    read_at BIGINT NOT NULL
);

-- The visitor's conversations on one line.
CREATE INDEX conversations_account_contact ON conversations (channel_account_id, contact_id);
