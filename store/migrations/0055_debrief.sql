-- Voice debriefs after customer meetings (issue 10 §1). One row per meeting (meeting_key: the calendar or call
-- event id, or "manual:<command event id>" for /复盘): the UNIQUE key is what keeps a meeting to one debrief.
-- status: scheduled (card not sent yet, due_at) → asked → answering → done; expired when unanswered for
-- [debrief] expire_days; cancelled when the rep says 不用复盘. The three answers are kept as text; what was
-- understood (labels, next step) as JSON; `applied` remembers the deal fields this debrief changed and their old
-- values, so a correction (改一下) can put them back before applying the corrected answer.

CREATE TABLE debriefs (
  id INTEGER PRIMARY KEY,
  meeting_key TEXT NOT NULL UNIQUE,
  person_id TEXT NOT NULL,
  lead_id TEXT,
  customer_id TEXT,
  title TEXT NOT NULL DEFAULT '',
  source TEXT NOT NULL,                          -- calendar | call | command
  meeting_at INTEGER NOT NULL,                   -- when the meeting ended (command: when it was typed)
  status TEXT NOT NULL DEFAULT 'scheduled',
  due_at INTEGER NOT NULL,                       -- when the card goes out
  asked_at INTEGER,
  remind_at INTEGER,                             -- the one reminder is due then (NULL: none planned)
  reminded_at INTEGER,
  done_at INTEGER,
  mode TEXT NOT NULL DEFAULT '',                 -- voice | text: what the rep pressed
  correcting TEXT NOT NULL DEFAULT '',           -- worry | evidence | next_step while a correction is awaited
  worry TEXT NOT NULL DEFAULT '',
  evidence TEXT NOT NULL DEFAULT '',
  next_step TEXT NOT NULL DEFAULT '',
  understood TEXT NOT NULL DEFAULT '{}',
  applied TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL
);
CREATE INDEX debriefs_due ON debriefs (due_at) WHERE status = 'scheduled';
CREATE INDEX debriefs_open ON debriefs (person_id, meeting_at) WHERE status IN ('scheduled', 'asked', 'answering');
CREATE INDEX debriefs_person ON debriefs (person_id, meeting_at);
CREATE INDEX debriefs_meeting ON debriefs (meeting_at);
CREATE INDEX debriefs_lead ON debriefs (lead_id, meeting_at);

-- Every voice note or text that answered a debrief, as received (retention: [debrief] keep_days empties text
-- and audio_ref, the understood answers on the debrief stay).
CREATE TABLE debrief_answers (
  id INTEGER PRIMARY KEY,
  debrief_id INTEGER NOT NULL REFERENCES debriefs (id) ON DELETE CASCADE,
  event_id TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,                            -- voice | text
  text TEXT NOT NULL DEFAULT '',
  recorded_at INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL DEFAULT 0,
  audio_ref TEXT NOT NULL DEFAULT '',
  pruned INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX debrief_answers_time ON debrief_answers (received_at) WHERE pruned = 0;

-- A deal's next step, as the last debrief (or a correction) stated it.
CREATE TABLE deal_next_steps (
  lead_id TEXT PRIMARY KEY REFERENCES leads (id) ON DELETE CASCADE,
  action TEXT NOT NULL DEFAULT '',
  due_date TEXT NOT NULL DEFAULT '',             -- YYYY-MM-DD, '' unknown
  person TEXT NOT NULL DEFAULT '',
  debrief_id INTEGER,
  person_id TEXT NOT NULL DEFAULT '',
  updated_at INTEGER NOT NULL
);
