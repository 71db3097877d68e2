-- `salespulse forget <customer>` (issue 13): one row per erasure — who ran it, when, which customer, and how many
-- rows / files of each kind were deleted or blanked (a JSON object of counts). Never the deleted content.
CREATE TABLE forget_audit (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  counts TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX forget_audit_customer ON forget_audit (customer_id, at);
