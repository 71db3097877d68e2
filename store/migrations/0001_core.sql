-- Core schema: inbox, events and tags, org directory, customers and leads, outbox, scheduler, key-value state.
-- Timestamps are integer milliseconds UTC. Ranges reserved: 0001-0009 core, 0010-0019 visibility (rules, silence,
-- calls, links), 0020-0029 forecasting, 0030-0039 platform adapters.

CREATE TABLE inbox (
  id INTEGER PRIMARY KEY,
  platform TEXT NOT NULL,
  external_id TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  payload TEXT NOT NULL,
  event TEXT,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'unsupported', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  error TEXT,
  processed_at INTEGER,
  UNIQUE (platform, external_id)
);
CREATE INDEX inbox_pending ON inbox (id) WHERE status = 'pending';

CREATE TABLE teams (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  manager_id TEXT
);

CREATE TABLE people (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('rep', 'manager', 'cs', 'colleague', 'bot')),
  team_id TEXT REFERENCES teams (id),
  is_admin INTEGER NOT NULL DEFAULT 0,
  department TEXT NOT NULL DEFAULT '',
  phone TEXT NOT NULL DEFAULT '',
  active INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX people_name ON people (name);

CREATE TABLE identities (
  platform TEXT NOT NULL,
  platform_user_id TEXT NOT NULL,
  person_id TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
  PRIMARY KEY (platform, platform_user_id)
);

CREATE TABLE customers (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  industry TEXT NOT NULL DEFAULT '',
  size TEXT NOT NULL DEFAULT '',
  owner_id TEXT REFERENCES people (id),
  created_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX customers_name ON customers (name);

-- How an event finds its customer: WeCom external id, phone, email, a bound group chat.
CREATE TABLE customer_keys (
  kind TEXT NOT NULL CHECK (kind IN ('external_id', 'phone', 'email', 'chat', 'platform_user')),
  value TEXT NOT NULL,
  customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  PRIMARY KEY (kind, value)
);
CREATE INDEX customer_keys_customer ON customer_keys (customer_id);

CREATE TABLE leads (
  id TEXT PRIMARY KEY,
  customer_id TEXT NOT NULL REFERENCES customers (id),
  owner_id TEXT REFERENCES people (id),
  title TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'won', 'lost')),
  stage TEXT NOT NULL DEFAULT '',
  product TEXT NOT NULL DEFAULT '',
  amount REAL NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  expected_close_at INTEGER,
  closed_at INTEGER,
  last_activity_at INTEGER,
  first_touch_at INTEGER
);
CREATE INDEX leads_customer_open ON leads (customer_id, status);
CREATE INDEX leads_owner ON leads (owner_id, status);

CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  event_id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  platform TEXT NOT NULL,
  occurred_at INTEGER NOT NULL,
  actor_id TEXT NOT NULL DEFAULT '',
  person_id TEXT NOT NULL DEFAULT '',
  role TEXT NOT NULL DEFAULT 'unknown',
  customer_id TEXT,
  lead_id TEXT,
  kind TEXT NOT NULL DEFAULT '',
  text TEXT NOT NULL DEFAULT '',
  conversation_id TEXT NOT NULL DEFAULT '',
  data TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_lead_time ON events (lead_id, occurred_at);
CREATE INDEX events_customer_time ON events (customer_id, occurred_at);
CREATE INDEX events_unmatched ON events (occurred_at) WHERE customer_id IS NULL;

CREATE TABLE event_tags (
  event_rowid INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  tag TEXT NOT NULL,
  category TEXT NOT NULL,
  weight REAL NOT NULL DEFAULT 1,
  rule_id TEXT NOT NULL DEFAULT '',
  lead_id TEXT,
  occurred_at INTEGER NOT NULL,
  PRIMARY KEY (event_rowid, tag)
);
CREATE INDEX event_tags_lead_time ON event_tags (lead_id, occurred_at);

CREATE TABLE outbox (
  id INTEGER PRIMARY KEY,
  idempotency_key TEXT NOT NULL UNIQUE,
  platform TEXT NOT NULL,
  target TEXT NOT NULL,
  reply TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  sent_at INTEGER,
  source_event_id TEXT NOT NULL DEFAULT '',
  platform_ref TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';

CREATE TABLE scheduler_runs (
  job TEXT NOT NULL,
  due_at INTEGER NOT NULL,
  emitted_at INTEGER NOT NULL,
  PRIMARY KEY (job, due_at)
);

CREATE TABLE scheduler_jobs (
  job TEXT PRIMARY KEY,
  cron TEXT NOT NULL,
  last_due_at INTEGER NOT NULL
);

CREATE TABLE kv (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

-- Durable deferred work (chart rendering, simulations, transcription): written in the same transaction as the
-- event that asked for it, run off the event loop, its replies enqueued with the job id as idempotency key.
CREATE TABLE deferred (
  id INTEGER PRIMARY KEY,
  job TEXT NOT NULL,
  payload TEXT NOT NULL,
  target TEXT NOT NULL,
  source_event_id TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  error TEXT,
  created_at INTEGER NOT NULL
);
CREATE INDEX deferred_pending ON deferred (id) WHERE status = 'pending'
