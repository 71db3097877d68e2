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
-- of its objections, with what statistics and ranking need copied in (rep, outcome as success 1/0/NULL pending,
-- industry, time, star), so both read this narrow table alone: 100,000 snippets group in tens of milliseconds.
CREATE TABLE coach_snippet_cells (
  snippet_id INTEGER NOT NULL REFERENCES coach_snippets (id) ON DELETE CASCADE,
  objection TEXT NOT NULL,
  strategy TEXT NOT NULL,
  rep_id TEXT NOT NULL DEFAULT '',
  success INTEGER,
  industry TEXT NOT NULL DEFAULT '',
  occurred_at INTEGER NOT NULL DEFAULT 0,
  starred INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (objection, snippet_id)
) WITHOUT ROWID;
CREATE INDEX coach_snippet_cells_snippet ON coach_snippet_cells (snippet_id);
-- ranking: a family's (rep × cell) newest recommendable snippets, overall and in one industry; starred ones
CREATE INDEX coach_cells_family ON coach_snippet_cells (objection, rep_id, strategy, occurred_at)
  WHERE success = 1 OR starred = 1;
CREATE INDEX coach_cells_family_industry ON coach_snippet_cells (objection, industry, rep_id, strategy, occurred_at)
  WHERE success = 1 OR starred = 1;
-- statistics: cell and family counts are one covering index scan
CREATE INDEX coach_cells_stats ON coach_snippet_cells (objection, strategy, rep_id, success, occurred_at);
CREATE INDEX coach_cells_starred ON coach_snippet_cells (objection, occurred_at) WHERE starred = 1;

-- Each family's (a rep's way of answering one objection with one strategy) shrunk success estimate, recomputed
-- when outcomes arrive (a few thousand rows at most). weight = the interval's lower bound: evidence beats luck.
CREATE TABLE coach_families (
  objection TEXT NOT NULL,
  rep_id TEXT NOT NULL,
  strategy TEXT NOT NULL,
  weight REAL NOT NULL,
  mean REAL NOT NULL,
  low REAL NOT NULL,
  high REAL NOT NULL,
  n INTEGER NOT NULL,
  k INTEGER NOT NULL,
  PRIMARY KEY (objection, rep_id, strategy)
) WITHOUT ROWID;
CREATE INDEX coach_families_weight ON coach_families (objection, weight DESC);

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
