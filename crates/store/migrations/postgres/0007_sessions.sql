-- Agents' browser sessions (the agent UI) and their availability.
-- A session's token is kept only as its SHA-256, like API tokens; the CSRF token is not a
-- credential on its own (it is useless without the session cookie), so it is kept as is.
CREATE TABLE sessions (
    id UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    agent_id UUID NOT NULL REFERENCES agents(id),
    token_hash TEXT NOT NULL UNIQUE,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_agent ON sessions (agent_id);

-- online or away: who automations may hand tickets to.
ALTER TABLE agents ADD COLUMN availability TEXT NOT NULL DEFAULT 'away';
