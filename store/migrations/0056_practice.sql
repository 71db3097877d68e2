-- The objection practice sandbox (issue 10 §3): a session per /陪练, one round per objection the virtual
-- customer raises. State lives here so a restart continues the session; status active → ended (by /结束, by the
-- last round, or idle for [practice] idle_minutes: ended_by says which).

CREATE TABLE practice_sessions (
  id INTEGER PRIMARY KEY,
  person_id TEXT NOT NULL,
  team TEXT NOT NULL DEFAULT '',
  objection TEXT NOT NULL DEFAULT '',            -- the objection label asked for ('' = any)
  industry TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL DEFAULT 'active',
  ended_by TEXT NOT NULL DEFAULT '',             -- end | done | idle
  rounds INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  last_at INTEGER NOT NULL,
  ended_at INTEGER,
  plan TEXT NOT NULL DEFAULT '[]'                -- JSON: the objections of this session, [label, text, source]
);
CREATE UNIQUE INDEX practice_one_active ON practice_sessions (person_id) WHERE status = 'active';
CREATE INDEX practice_idle ON practice_sessions (last_at) WHERE status = 'active';
CREATE INDEX practice_person ON practice_sessions (person_id, started_at);

CREATE TABLE practice_rounds (
  id INTEGER PRIMARY KEY,
  session_id INTEGER NOT NULL REFERENCES practice_sessions (id) ON DELETE CASCADE,
  n INTEGER NOT NULL,
  objection TEXT NOT NULL,
  prompt TEXT NOT NULL,
  asked_at INTEGER NOT NULL,
  answer TEXT,
  kind TEXT NOT NULL DEFAULT '',                 -- text | voice
  answered_at INTEGER,
  score INTEGER,
  detail TEXT NOT NULL DEFAULT '{}',             -- JSON: strategies, coverage, response_s, rate, pauses, fillers, advice
  UNIQUE (session_id, n)
);
