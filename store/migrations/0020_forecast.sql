-- Forecasting: the deal fields a lead does not carry, the audited revisions, free-text notes and customers'
-- procurement windows. Keyed by leads.id (leads stay the spine: amount, product, stage, status, dates, owner).

CREATE TABLE deal_details (
  lead_id TEXT PRIMARY KEY REFERENCES leads (id) ON DELETE CASCADE,
  industry TEXT NOT NULL DEFAULT '',
  customer_known INTEGER NOT NULL DEFAULT 1,      -- 0: the source had no account for this deal
  intent_letter INTEGER NOT NULL DEFAULT 0,        -- 1: an intent letter (意向书) exists
  has_seal INTEGER NOT NULL DEFAULT 0,             -- 公章
  has_budget_range INTEGER NOT NULL DEFAULT 0,     -- 明确预算范围
  has_named_contact INTEGER NOT NULL DEFAULT 0,    -- 指定对接人
  has_next_meeting INTEGER NOT NULL DEFAULT 0,     -- 约定下次会议时间
  intent_force TEXT NOT NULL DEFAULT '',           -- 法律约束 | 框架共识 | 初步探讨
  decision_people INTEGER NOT NULL DEFAULT 0,      -- people of the decision chain we have met
  decision_rank INTEGER NOT NULL DEFAULT 0,        -- highest rank met: 0 unknown, 1 staff … 5 owner/CEO
  rank_change INTEGER NOT NULL DEFAULT 0,          -- -1 our contact lost rank / left, +1 a higher rank joined
  approver_met INTEGER,                            -- final approver (终审人) met? NULL = unknown
  competitors INTEGER NOT NULL DEFAULT 0,
  competitor_move INTEGER NOT NULL DEFAULT 0,      -- 1: a competitor made a move (price cut, new bid)
  tech_validation REAL,                            -- 0..1 progress of POC / technical validation; NULL unknown
  disputed_clauses INTEGER NOT NULL DEFAULT 0,
  legal_review TEXT NOT NULL DEFAULT '',           -- '' | pending | passed | failed
  payment_punctuality REAL,                        -- 0..1 share of past invoices paid on time; NULL unknown
  years_cooperation REAL NOT NULL DEFAULT 0,
  budget_share REAL,                               -- 0..1 our share of the customer's budget in this category
  close_slips INTEGER NOT NULL DEFAULT 0,          -- how many times the expected close moved later
  sentiment INTEGER NOT NULL DEFAULT 0,            -- from notes: +1 好转, -1 受阻
  probability_override REAL,                       -- /adjust 概率: a rep's explicit probability
  source TEXT NOT NULL DEFAULT '',                 -- import file / chat
  updated_at INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE deal_revisions (
  id INTEGER PRIMARY KEY,
  lead_id TEXT NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
  field TEXT NOT NULL CHECK (field IN ('amount', 'probability', 'close_date', 'note')),
  old_value TEXT NOT NULL DEFAULT '',
  new_value TEXT NOT NULL DEFAULT '',
  reason TEXT NOT NULL,
  person_id TEXT NOT NULL DEFAULT '',
  at INTEGER NOT NULL,
  source_event_id TEXT NOT NULL DEFAULT ''
);
CREATE INDEX deal_revisions_time ON deal_revisions (at);
CREATE INDEX deal_revisions_lead ON deal_revisions (lead_id, at);

CREATE TABLE deal_notes (
  id INTEGER PRIMARY KEY,
  lead_id TEXT NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
  text TEXT NOT NULL,
  understood TEXT NOT NULL DEFAULT '[]',           -- JSON list of what the parser recognised
  not_understood TEXT NOT NULL DEFAULT '',
  person_id TEXT NOT NULL DEFAULT '',
  at INTEGER NOT NULL,
  event_at INTEGER                                 -- the dated event the note announced (下周, 月底 …)
);
CREATE INDEX deal_notes_lead ON deal_notes (lead_id, at);

-- Customers' buying windows and budget events: a customer id, or an industry for everyone in it.
CREATE TABLE procurement_windows (
  id INTEGER PRIMARY KEY,
  customer_id TEXT NOT NULL DEFAULT '',
  industry TEXT NOT NULL DEFAULT '',
  name TEXT NOT NULL,
  starts_md TEXT NOT NULL,                         -- MM-DD, repeats every year
  ends_md TEXT NOT NULL,
  kind TEXT NOT NULL DEFAULT 'window',             -- window | budget
  source TEXT NOT NULL DEFAULT '',
  UNIQUE (customer_id, industry, name, starts_md)
)
