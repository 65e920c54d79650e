-- Search (DESIGN §7): full text over messages and subjects, substring search over the ways
-- a customer can be found (name, e-mail, phone, handles), and saved views.

-- Every way to find a contact, one row each: `field` is the search keyword it answers
-- (name, email, phone, whatsapp, line, instagram, x, telegram), `value` the text as typed,
-- lowercased, and `digits` its digits alone, so that phone terms match either way.
-- Rebuilt by the store whenever the contact or one of its identities changes.
CREATE TABLE contact_handles (
    workspace_id BLOB NOT NULL,
    contact_id BLOB NOT NULL REFERENCES contacts(id),
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    digits TEXT NOT NULL
);
CREATE INDEX contact_handles_contact ON contact_handles (contact_id);
CREATE INDEX contact_handles_field ON contact_handles (workspace_id, field);

-- Trigram index: any substring of three characters or more is an index lookup.
CREATE VIRTUAL TABLE contact_handles_fts USING fts5(
    value, digits, content='contact_handles', content_rowid='rowid', tokenize='trigram'
);
CREATE TRIGGER contact_handles_ai AFTER INSERT ON contact_handles BEGIN
    INSERT INTO contact_handles_fts (rowid, value, digits) VALUES (new.rowid, new.value, new.digits);
END;
CREATE TRIGGER contact_handles_ad AFTER DELETE ON contact_handles BEGIN
    INSERT INTO contact_handles_fts (contact_handles_fts, rowid, value, digits)
        VALUES ('delete', old.rowid, old.value, old.digits);
END;

-- Words of message bodies.
CREATE VIRTUAL TABLE messages_fts USING fts5(
    body, content='messages', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER messages_fts_ai AFTER INSERT ON messages WHEN new.body IS NOT NULL BEGIN
    INSERT INTO messages_fts (rowid, body) VALUES (new.rowid, new.body);
END;
CREATE TRIGGER messages_fts_au AFTER UPDATE OF body ON messages WHEN old.body IS NOT new.body BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) SELECT 'delete', old.rowid, old.body WHERE old.body IS NOT NULL;
    INSERT INTO messages_fts (rowid, body) SELECT new.rowid, new.body WHERE new.body IS NOT NULL;
END;
CREATE TRIGGER messages_fts_ad AFTER DELETE ON messages WHEN old.body IS NOT NULL BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.rowid, old.body);
END;
INSERT INTO messages_fts (rowid, body) SELECT rowid, body FROM messages WHERE body IS NOT NULL;

-- How many messages hold each word: the search compiler reads a word's count to choose
-- between collecting every match (rare words) and probing the newest tickets (common ones).
CREATE VIRTUAL TABLE messages_fts_vocab USING fts5vocab('messages_fts', 'row');

-- Words of ticket subjects.
CREATE VIRTUAL TABLE tickets_fts USING fts5(
    subject, content='tickets', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER tickets_fts_ai AFTER INSERT ON tickets WHEN new.subject IS NOT NULL BEGIN
    INSERT INTO tickets_fts (rowid, subject) VALUES (new.rowid, new.subject);
END;
CREATE TRIGGER tickets_fts_au AFTER UPDATE OF subject ON tickets WHEN old.subject IS NOT new.subject BEGIN
    INSERT INTO tickets_fts (tickets_fts, rowid, subject) SELECT 'delete', old.rowid, old.subject WHERE old.subject IS NOT NULL;
    INSERT INTO tickets_fts (rowid, subject) SELECT new.rowid, new.subject WHERE new.subject IS NOT NULL;
END;
CREATE TRIGGER tickets_fts_ad AFTER DELETE ON tickets WHEN old.subject IS NOT NULL BEGIN
    INSERT INTO tickets_fts (tickets_fts, rowid, subject) VALUES ('delete', old.rowid, old.subject);
END;
INSERT INTO tickets_fts (rowid, subject) SELECT rowid, subject FROM tickets WHERE subject IS NOT NULL;

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
    id BLOB PRIMARY KEY,
    workspace_id BLOB NOT NULL REFERENCES workspaces(id),
    owner_id BLOB REFERENCES agents(id),
    name TEXT NOT NULL,
    query TEXT NOT NULL,
    position INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX views_workspace ON views (workspace_id, position, created_at);
