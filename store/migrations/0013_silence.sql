-- Silence alerts (issue 4 §4). One row per open lead: the time the silence clock runs from (basis_at = last
-- recognisable activity, or the lead's creation), the deadline computed from it (NULL = the next sweep computes
-- it; that is how activity reaches this table), and whether this silence episode was already alerted.
-- The sweep reads only two partial indexes: rows to (re)compute and unalerted rows whose deadline has passed, so
-- its cost follows the number of leads that changed, not the number of leads.
-- Triggers on leads keep this table in step with leads.last_activity_at (bumped by store.leads.touch for every
-- recognisable action, whichever capability saw it) and with status changes.

CREATE TABLE lead_silence (
  lead_id TEXT PRIMARY KEY REFERENCES leads (id) ON DELETE CASCADE,
  basis_at INTEGER NOT NULL,
  deadline_at INTEGER,
  alerted_at INTEGER
) WITHOUT ROWID;
CREATE INDEX lead_silence_due ON lead_silence (deadline_at) WHERE alerted_at IS NULL;
CREATE INDEX lead_silence_pending ON lead_silence (lead_id) WHERE deadline_at IS NULL;
CREATE INDEX lead_silence_alerted ON lead_silence (alerted_at) WHERE alerted_at IS NOT NULL;

-- History: one row per alerted silence episode (lead, basis_at); resolved_at is the activity that ended it.
CREATE TABLE silence_alerts (
  id INTEGER PRIMARY KEY,
  lead_id TEXT NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
  basis_at INTEGER NOT NULL,
  deadline_at INTEGER NOT NULL,
  alerted_at INTEGER NOT NULL,
  owner_id TEXT,
  resolved_at INTEGER,
  UNIQUE (lead_id, basis_at)
);
CREATE INDEX silence_alerts_open ON silence_alerts (lead_id) WHERE resolved_at IS NULL;
CREATE INDEX silence_alerts_time ON silence_alerts (alerted_at);

INSERT INTO lead_silence (lead_id, basis_at)
  SELECT id, MAX(created_at, COALESCE(last_activity_at, created_at)) FROM leads WHERE status = 'open';

CREATE TRIGGER lead_silence_insert AFTER INSERT ON leads WHEN NEW.status = 'open'
BEGIN
  INSERT OR REPLACE INTO lead_silence (lead_id, basis_at, deadline_at, alerted_at)
  VALUES (NEW.id, MAX(NEW.created_at, COALESCE(NEW.last_activity_at, NEW.created_at)), NULL, NULL);
END;

CREATE TRIGGER lead_silence_activity AFTER UPDATE OF last_activity_at ON leads
WHEN NEW.status = 'open' AND NEW.last_activity_at IS NOT NULL AND NEW.last_activity_at IS NOT OLD.last_activity_at
BEGIN
  UPDATE lead_silence SET basis_at = NEW.last_activity_at, deadline_at = NULL
   WHERE lead_id = NEW.id AND basis_at < NEW.last_activity_at;
END;

CREATE TRIGGER lead_silence_status AFTER UPDATE OF status ON leads
WHEN NEW.status IS NOT OLD.status
BEGIN
  DELETE FROM lead_silence WHERE lead_id = NEW.id AND NEW.status <> 'open';
  UPDATE silence_alerts SET resolved_at = COALESCE(NEW.closed_at, NEW.last_activity_at, 0)
   WHERE lead_id = NEW.id AND resolved_at IS NULL AND NEW.status <> 'open';
  INSERT OR IGNORE INTO lead_silence (lead_id, basis_at)
    SELECT NEW.id, MAX(NEW.created_at, COALESCE(NEW.last_activity_at, NEW.created_at)) WHERE NEW.status = 'open';
END;
