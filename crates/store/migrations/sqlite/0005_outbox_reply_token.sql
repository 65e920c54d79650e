-- A LINE send that used the conversation's reply token cannot be retried safely: the reply API
-- has no idempotency key, and the token is single-use. The claim records that it was used.
ALTER TABLE outbox ADD COLUMN reply_token_used BOOLEAN NOT NULL DEFAULT FALSE;
