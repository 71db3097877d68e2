-- WeCom adapter state. Timestamps are integer milliseconds UTC.

-- Template cards we sent: task_id (unique per app, <=128 bytes) -> the outbox key, where it went and what it said,
-- and the latest single-use response_code (from the send answer or from a click) for message/update_template_card.
CREATE TABLE wecom_cards (
  task_id TEXT PRIMARY KEY,
  idempotency_key TEXT NOT NULL,
  target TEXT NOT NULL,
  reply TEXT NOT NULL,
  response_code TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  updated_at INTEGER
);
CREATE INDEX wecom_cards_key ON wecom_cards (idempotency_key);

-- Button keys too long to carry action + value inline (WeCom caps a key at 1024 bytes): digest -> the button.
CREATE TABLE wecom_button_keys (
  digest TEXT PRIMARY KEY,
  action TEXT NOT NULL,
  value TEXT NOT NULL
);

-- First send attempt per outbox idempotency key: a retry of the same key turns on enable_duplicate_check with an
-- interval that covers the first attempt, so a reply whose first answer was lost is not delivered twice.
CREATE TABLE wecom_send_attempts (
  idempotency_key TEXT PRIMARY KEY,
  first_at INTEGER NOT NULL
);

-- Archive media fetched through the finance SDK (voice is AMR), checked against the record's md5sum.
CREATE TABLE wecom_media (
  sdkfileid TEXT PRIMARY KEY,
  msgid TEXT NOT NULL,
  path TEXT NOT NULL,
  md5 TEXT NOT NULL,
  size INTEGER NOT NULL,
  fetched_at INTEGER NOT NULL
);

-- Org sync: WeCom department id -> the team it became.
CREATE TABLE wecom_departments (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  parent_id INTEGER NOT NULL DEFAULT 0,
  team_id TEXT NOT NULL,
  synced_at INTEGER NOT NULL
);
