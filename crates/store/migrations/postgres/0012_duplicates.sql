-- Suggested duplicates (DESIGN §5): other contacts with the same phone number (by its digits:
-- a WhatsApp id, an SMS number, a profile phone) or the same e-mail address.
CREATE INDEX contact_handles_digits ON contact_handles (workspace_id, digits) WHERE digits <> '';
DROP INDEX contact_handles_field;
CREATE INDEX contact_handles_field ON contact_handles (workspace_id, field, value);
