-- Tracked document links (/link) and their opens (store/links.py).
-- code: random, unguessable (≥ 72 bits), target: an http(s) URL or a file name under [links] files_dir.
CREATE TABLE links (
  code TEXT PRIMARY KEY,
  lead_id TEXT NOT NULL,
  customer_id TEXT NOT NULL DEFAULT '',
  document TEXT NOT NULL,
  target TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('url', 'file')),
  created_by TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL
);
CREATE INDEX links_lead ON links (lead_id, created_at);

-- One row per recorded open (a DocumentOpen event). opener_hash is a salted SHA-256 of address + user agent,
-- the raw address is never stored.
CREATE TABLE link_opens (
  event_id TEXT PRIMARY KEY,
  code TEXT NOT NULL,
  lead_id TEXT NOT NULL DEFAULT '',
  document TEXT NOT NULL DEFAULT '',
  opener_hash TEXT NOT NULL,
  opened_at INTEGER NOT NULL
);
CREATE INDEX link_opens_code_time ON link_opens (code, opened_at);
CREATE INDEX link_opens_lead_doc ON link_opens (lead_id, document)
