-- Search (DESIGN §7): full text over messages and subjects, substring search over the ways
-- a customer can be found (name, e-mail, phone, handles), and saved views.

-- Trigram indexes. Installed once per database, in `public`, and named with their schema,
-- so that every schema of the database (tests give each case one) finds the operator class.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

-- Every way to find a contact, one row each: `field` is the search keyword it answers
-- (name, email, phone, whatsapp, line, instagram, x, telegram), `value` the text as typed,
-- lowercased, and `digits` its digits alone, so that phone terms match either way.
-- Rebuilt by the store whenever the contact or one of its identities changes.
CREATE TABLE contact_handles (
    workspace_id UUID NOT NULL,
    contact_id UUID NOT NULL REFERENCES contacts(id),
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    digits TEXT NOT NULL
);
CREATE INDEX contact_handles_contact ON contact_handles (contact_id);
CREATE INDEX contact_handles_field ON contact_handles (workspace_id, field);
CREATE INDEX contact_handles_value_trgm ON contact_handles USING gin (value public.gin_trgm_ops);
CREATE INDEX contact_handles_digits_trgm ON contact_handles USING gin (digits public.gin_trgm_ops);

-- Words of message bodies and ticket subjects ('simple': no stemming, any language).
CREATE INDEX messages_fts ON messages USING gin (to_tsvector('simple', COALESCE(body, '')));
CREATE INDEX tickets_fts ON tickets USING gin (to_tsvector('simple', COALESCE(subject, '')));

-- Inbox views. A view's first page reads an index in the order it lists (activity, then id)
-- and stops after a page; the partial indexes hold only the tickets waiting on someone
-- (new, open, pending, on hold), a small part of a large inbox. The search compiler writes
-- that status list literally, in this order, so both planners can use them.
DROP INDEX tickets_assignee;
DROP INDEX tickets_status;
CREATE INDEX tickets_status ON tickets (workspace_id, status, updated_at, id);
CREATE INDEX tickets_assignee ON tickets (workspace_id, assignee_id, status, updated_at, id);
CREATE INDEX tickets_active ON tickets (workspace_id, updated_at, id)
    WHERE status IN ('new', 'open', 'pending', 'on_hold');
CREATE INDEX tickets_active_assignee ON tickets (workspace_id, assignee_id, updated_at, id)
    WHERE status IN ('new', 'open', 'pending', 'on_hold');
CREATE INDEX tickets_created ON tickets (workspace_id, created_at, id);
CREATE INDEX tickets_kind ON tickets (workspace_id, kind, status, updated_at);
CREATE INDEX tickets_channel ON tickets (workspace_id, channel, updated_at, id);
CREATE INDEX tickets_team ON tickets (workspace_id, team_id, status, updated_at);

-- Saved views: a name and a query in the search language. Personal (owner_id set) or shared.
CREATE TABLE views (
    id UUID PRIMARY KEY,
    workspace_id UUID NOT NULL REFERENCES workspaces(id),
    owner_id UUID REFERENCES agents(id),
    name TEXT NOT NULL,
    query TEXT NOT NULL,
    position BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX views_workspace ON views (workspace_id, position, created_at);
