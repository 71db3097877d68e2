-- Call records and missed-call escalation (handlers/calls.py, store/calls.py).
-- call_log: every call record we saw (from CSV import or the telephony webhook), keyed by its event id, so a
-- callback can be found whatever order the records arrive in.
CREATE TABLE call_log (
  event_id TEXT PRIMARY KEY,
  occurred_at INTEGER NOT NULL,
  direction TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
  phone TEXT NOT NULL,
  answered INTEGER NOT NULL,
  duration_s INTEGER NOT NULL DEFAULT 0,
  person_id TEXT NOT NULL DEFAULT '',
  customer_id TEXT
);
CREATE INDEX call_log_phone_time ON call_log (phone, occurred_at);

-- One row per missed-call episode: repeated unanswered calls from the same number while one is open add to
-- `attempts` instead of opening another alert. status: pending → returned | escalated → claimed → handled,
-- stale = arrived too late to be worth an alert (old import).
CREATE TABLE missed_calls (
  id INTEGER PRIMARY KEY,
  event_id TEXT NOT NULL UNIQUE,
  phone TEXT NOT NULL,
  customer_id TEXT,
  lead_id TEXT,
  rep_id TEXT NOT NULL DEFAULT '',
  missed_at INTEGER NOT NULL,
  last_missed_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 1,
  due_at INTEGER NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'returned', 'escalated', 'claimed', 'handled', 'stale')),
  returned_at INTEGER,
  returned_by TEXT NOT NULL DEFAULT '',
  escalated_at INTEGER,
  recipients TEXT NOT NULL DEFAULT '',
  handled_by TEXT NOT NULL DEFAULT '',
  handled_at INTEGER
);
CREATE INDEX missed_calls_due ON missed_calls (due_at) WHERE status = 'pending';
CREATE INDEX missed_calls_phone ON missed_calls (phone, status);
CREATE INDEX missed_calls_customer ON missed_calls (customer_id, status)
