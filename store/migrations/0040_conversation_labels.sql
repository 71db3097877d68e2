-- Objection × strategy labels per customer / rep turn (issue 9 §1, handlers/conversation/observe.py).
-- One row per turn of a conversation with a customer, labelled or not: snippets and the "再比较一下" check need
-- the unlabelled turns around a labelled one. `labels` is the comma-joined label keys in fixed order ('' = none).
-- `text` is set only when the words are not in `events.text` (a voice note heard later by the speech pipeline).
CREATE TABLE conversation_labels (
  event_id TEXT PRIMARY KEY,
  lead_id TEXT,
  customer_id TEXT,
  person_id TEXT NOT NULL DEFAULT '',
  role TEXT NOT NULL,
  labels TEXT NOT NULL DEFAULT '',
  occurred_at INTEGER NOT NULL,
  text TEXT
);
CREATE INDEX conversation_labels_lead ON conversation_labels (lead_id, occurred_at);
CREATE INDEX conversation_labels_customer ON conversation_labels (customer_id, occurred_at);
