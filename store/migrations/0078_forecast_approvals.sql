-- A rep's forecast change above [forecast] approval_* steps waits for their manager (handlers/forecast/approval.py):
-- pending rows are not in any forecast; the decision (who, when) is kept, and an approved change's revision row
-- names its approver.
CREATE TABLE forecast_approvals (
  id INTEGER PRIMARY KEY,
  lead_id TEXT NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
  field TEXT NOT NULL CHECK (field IN ('amount', 'probability', 'close_date')),
  value REAL NOT NULL,                 -- the new value as /adjust parsed it (元, 0–1, or epoch ms)
  old_text TEXT NOT NULL,              -- as shown on the card when it was asked
  new_text TEXT NOT NULL,
  reason TEXT NOT NULL,
  requester_id TEXT NOT NULL,
  approvers TEXT NOT NULL,             -- JSON list of person ids who may decide
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected', 'withdrawn')),
  requested_at INTEGER NOT NULL,
  decided_by TEXT,
  decided_at INTEGER,
  revision_id INTEGER,                 -- the deal_revisions row an approval wrote
  source_event_id TEXT NOT NULL DEFAULT ''
);
CREATE INDEX forecast_approvals_pending ON forecast_approvals (lead_id, field) WHERE status = 'pending';

ALTER TABLE deal_revisions ADD COLUMN approved_by TEXT NOT NULL DEFAULT '';
