-- The live stream's durable log (DESIGN §9): every change agents see live is written here in the
-- same transaction as the change, so that a stream resumed with Last-Event-ID — on any node —
-- gets exactly what it missed. Ids count per workspace, without gaps: each is taken from the
-- workspace's head row, whose lock orders concurrent writers, so ids become visible in order.
-- Rows are pruned by age; what was pruned is the prefix below the smallest id still held.
CREATE TABLE live_event_heads (
    workspace_id BLOB PRIMARY KEY REFERENCES workspaces(id),
    last_id INTEGER NOT NULL
);

CREATE TABLE live_events (
    workspace_id BLOB NOT NULL,
    id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    ticket_id BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, id)
);
CREATE INDEX live_events_created ON live_events (created_at);
