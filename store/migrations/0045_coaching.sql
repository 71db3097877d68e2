-- Coaching (issue 9 §2-§6): golden snippets with their outcomes, precomputed ranking for live pushes, push log,
-- mutes and the "再比较一下" check. Label keys are handlers.conversation.labels'.

-- One objection → response exchange. `objections` / `strategies` are space-separated label keys. `context` is a
-- JSON list of [role, text, offset_s] around the exchange. Outcome: what the lead did within [coaching]
-- outcome_days after the exchange (pending until then): advanced | won | lost | stalled.
CREATE TABLE coach_snippets (
  id INTEGER PRIMARY KEY,
  source_key TEXT NOT NULL UNIQUE,
  source TEXT NOT NULL DEFAULT 'chat' CHECK (source IN ('chat', 'call', 'voice', 'debrief')),
  lead_id TEXT,
  customer_id TEXT,
  team_id TEXT NOT NULL DEFAULT '',
  rep_id TEXT NOT NULL DEFAULT '',
  objections TEXT NOT NULL,
  strategies TEXT NOT NULL DEFAULT '',
  objection_text TEXT NOT NULL,
  response_text TEXT NOT NULL DEFAULT '',
  turning_sentence TEXT NOT NULL DEFAULT '',
  context TEXT NOT NULL DEFAULT '[]',
  latency_s REAL,
  silence_action TEXT NOT NULL DEFAULT '',
  industry TEXT NOT NULL DEFAULT '',
  size TEXT NOT NULL DEFAULT '',
  product_line TEXT NOT NULL DEFAULT '',
  occurred_at INTEGER NOT NULL,
  stage_at TEXT NOT NULL DEFAULT '',
  outcome TEXT NOT NULL DEFAULT 'pending' CHECK (outcome IN ('pending', 'advanced', 'won', 'lost', 'stalled')),
  outcome_at INTEGER,
  starred INTEGER NOT NULL DEFAULT 0,
  starred_by TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL
);
CREATE INDEX coach_snippets_pending ON coach_snippets (occurred_at) WHERE outcome = 'pending';
CREATE INDEX coach_snippets_lead ON coach_snippets (lead_id, occurred_at);
CREATE INDEX coach_snippets_rep ON coach_snippets (rep_id, occurred_at);
CREATE INDEX coach_snippets_team ON coach_snippets (team_id, occurred_at);

-- The (objection, strategy) cells a snippet counts in: its first strategy ('' when the answer had none) for each
-- of its objections. Outcome statistics (matrix, shrinkage) group by these.
CREATE TABLE coach_snippet_cells (
  snippet_id INTEGER NOT NULL REFERENCES coach_snippets (id) ON DELETE CASCADE,
  objection TEXT NOT NULL,
  strategy TEXT NOT NULL,
  rep_id TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (objection, snippet_id)
) WITHOUT ROWID;
CREATE INDEX coach_snippet_cells_snippet ON coach_snippet_cells (snippet_id);

-- Precomputed ranking for pushes and /话术: successful (or starred) snippets per objection with their shrunk
-- success estimate. Recomputed when outcomes arrive, so a live push reads two short index ranges.
CREATE TABLE coach_rank (
  objection TEXT NOT NULL,
  snippet_id INTEGER NOT NULL REFERENCES coach_snippets (id) ON DELETE CASCADE,
  weight REAL NOT NULL,                 -- the estimate's lower bound: evidence ranks above luck
  industry TEXT NOT NULL DEFAULT '',
  occurred_at INTEGER NOT NULL,
  mean REAL NOT NULL DEFAULT 0,          -- the snippet's estimate (its rep's record with the cell, shrunk)
  low REAL NOT NULL DEFAULT 0,
  high REAL NOT NULL DEFAULT 0,
  n INTEGER NOT NULL DEFAULT 0,
  k INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (objection, snippet_id)
) WITHOUT ROWID;
CREATE INDEX coach_rank_top ON coach_rank (objection, weight DESC);
CREATE INDEX coach_rank_industry ON coach_rank (objection, industry, weight DESC);

-- Live pushes, for the per-lead-and-objection rate limit.
CREATE TABLE coach_pushes (
  lead_id TEXT NOT NULL,
  objection TEXT NOT NULL,
  at INTEGER NOT NULL,
  person_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  snippet_ids TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (lead_id, objection, at)
) WITHOUT ROWID;

-- `/教练 关`: people who muted pushes and nudges.
CREATE TABLE coach_mutes (
  person_id TEXT PRIMARY KEY,
  at INTEGER NOT NULL
);

-- The "再比较一下" check: a customer's hesitation, then the rep's first two messages. result: '' open,
-- 'case' (a concrete case came), 'no_case' (it did not, or the rep never answered in time).
CREATE TABLE coach_hesitations (
  event_id TEXT PRIMARY KEY,
  lead_id TEXT NOT NULL,
  rep_id TEXT NOT NULL DEFAULT '',
  team_id TEXT NOT NULL DEFAULT '',
  at INTEGER NOT NULL,
  text TEXT NOT NULL DEFAULT '',
  rep_msgs INTEGER NOT NULL DEFAULT 0,
  result TEXT NOT NULL DEFAULT '' CHECK (result IN ('', 'case', 'no_case')),
  resolved_at INTEGER,
  resolved_event_id TEXT NOT NULL DEFAULT ''
);
CREATE INDEX coach_hesitations_open ON coach_hesitations (lead_id, at) WHERE result = '';
CREATE INDEX coach_hesitations_time ON coach_hesitations (at);
