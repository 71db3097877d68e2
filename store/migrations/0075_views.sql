-- Views a manager expects in the first hour (handlers/views): targets set from chat, their audit trail, and the
-- daily pipeline snapshots /漏斗 compares against ("since last week").

-- One target per scope and period. scope_key: "company", "team:<团队名>" or "rep:<person id>" (the keys the
-- forecast uses); period: a forecast period label, 2026Q3 or 2026-06. A chat-set target wins over bot.toml's.
CREATE TABLE sales_targets (
  scope_key TEXT NOT NULL,
  period TEXT NOT NULL,
  amount REAL NOT NULL,
  set_by TEXT NOT NULL,
  set_at INTEGER NOT NULL,
  PRIMARY KEY (scope_key, period)
);

-- Every change to a target, never updated or deleted: who, when, from what (NULL: none before) to what.
CREATE TABLE sales_target_audit (
  id INTEGER PRIMARY KEY,
  scope_key TEXT NOT NULL,
  period TEXT NOT NULL,
  old_amount REAL,
  new_amount REAL NOT NULL,
  person_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  source_event_id TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sales_target_audit_at ON sales_target_audit (at);

-- The open deals as they stood on a local day (taken each night and whenever /漏斗 finds today's missing):
-- stage history that the leads table does not keep.
CREATE TABLE pipeline_snapshots (
  day TEXT NOT NULL,
  lead_id TEXT NOT NULL,
  stage TEXT NOT NULL,
  amount REAL NOT NULL,
  PRIMARY KEY (day, lead_id)
) WITHOUT ROWID;
