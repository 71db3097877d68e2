-- /目标 删除: a target can be removed from chat; its audit row records new_amount NULL ("deleted"). SQLite cannot
-- drop a NOT NULL, so the audit table is rebuilt with its rows and index as they were.
CREATE TABLE sales_target_audit_new (
  id INTEGER PRIMARY KEY,
  scope_key TEXT NOT NULL,
  period TEXT NOT NULL,
  old_amount REAL,
  new_amount REAL,
  person_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  source_event_id TEXT NOT NULL DEFAULT ''
);
INSERT INTO sales_target_audit_new (id, scope_key, period, old_amount, new_amount, person_id, at, source_event_id)
  SELECT id, scope_key, period, old_amount, new_amount, person_id, at, source_event_id FROM sales_target_audit;
DROP TABLE sales_target_audit;
ALTER TABLE sales_target_audit_new RENAME TO sales_target_audit;
CREATE INDEX sales_target_audit_at ON sales_target_audit (at);
