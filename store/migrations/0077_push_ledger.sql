-- Every push (an alert sent to a person, not an answer to them): which card carried it, or that it was held back
-- because the person already had [alerts] max_pushes_per_hour cards in the last hour. Held pushes go into that
-- person's next digest ("另有N条提醒已并入日报"); `digest_key` names the digest that carried them.
CREATE TABLE push_ledger (
  key TEXT PRIMARY KEY,            -- the push's idempotency key (alert key + person): a replay finds it here
  person_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pushed', 'held', 'digested')),
  card TEXT NOT NULL DEFAULT '',   -- the outbox key of the card that carried it (one card may carry several)
  title TEXT NOT NULL DEFAULT '',  -- a one-line summary, for the digest
  digest_key TEXT
);
CREATE INDEX push_ledger_recent ON push_ledger (person_id, at);
CREATE INDEX push_ledger_held ON push_ledger (status, person_id, at) WHERE status = 'held';
