-- Retail stores (part D; store/stores.py). Everything is kept per store and local day (day = 'YYYY-MM-DD' in the
-- store's own timezone).

CREATE TABLE stores (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  area TEXT NOT NULL DEFAULT '',
  store_type TEXT NOT NULL DEFAULT '',
  manager_id TEXT,
  city TEXT NOT NULL DEFAULT '',
  timezone TEXT NOT NULL DEFAULT 'Asia/Shanghai',
  opens TEXT NOT NULL DEFAULT '10:00',
  closes TEXT NOT NULL DEFAULT '22:00',
  latitude REAL,
  longitude REAL,
  video_url TEXT NOT NULL DEFAULT '',
  source TEXT NOT NULL DEFAULT '',
  updated_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX stores_area ON stores (area);

CREATE TABLE store_staff (
  store_id TEXT NOT NULL,
  person_id TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('manager', 'clerk')),
  PRIMARY KEY (store_id, person_id)
);
CREATE INDEX store_staff_person ON store_staff (person_id);

CREATE TABLE store_areas (
  name TEXT PRIMARY KEY,
  manager_id TEXT,
  competitor_note TEXT NOT NULL DEFAULT ''
);

-- Receptions: one row per store, day and reporter. person_id '*' is a POS/CSV import row for the whole store,
-- with `staff` people on duty; a clerk's `/接待 35` is a row under their own person id (staff 1).
CREATE TABLE store_receptions (
  store_id TEXT NOT NULL,
  day TEXT NOT NULL,
  person_id TEXT NOT NULL,
  receptions INTEGER NOT NULL CHECK (receptions >= 0),
  staff INTEGER NOT NULL DEFAULT 1 CHECK (staff >= 1),
  source TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (store_id, day, person_id)
);

-- Shelf photos checked against the planogram. exposure is NULL when the photo was refused (reason).
CREATE TABLE store_shelf_checks (
  id INTEGER PRIMARY KEY,
  store_id TEXT NOT NULL,
  day TEXT NOT NULL,
  at INTEGER NOT NULL,
  person_id TEXT NOT NULL DEFAULT '',
  registered INTEGER NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  exposure REAL,
  problems TEXT NOT NULL DEFAULT '[]',
  annotated_path TEXT NOT NULL DEFAULT '',
  source_event TEXT NOT NULL DEFAULT '' UNIQUE
);
CREATE INDEX store_shelf_checks_day ON store_shelf_checks (store_id, day, at);

-- Average dwell per store and day (from Wi-Fi visits: import, webhook probes, or a POS/CSV column).
CREATE TABLE store_dwell (
  store_id TEXT NOT NULL,
  day TEXT NOT NULL,
  avg_minutes REAL NOT NULL,
  visits INTEGER NOT NULL DEFAULT 0,
  source TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (store_id, day)
);

-- Raw Wi-Fi probe records from the webhook, turned into visits by the sweep after closing time.
CREATE TABLE store_wifi_probes (
  store_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  device TEXT NOT NULL,
  rssi INTEGER,
  PRIMARY KEY (store_id, device, at)
) WITHOUT ROWID;
CREATE INDEX store_wifi_probes_time ON store_wifi_probes (store_id, at);

-- Experiences (a customer tried a product in the store) and the deal they led to, if any.
CREATE TABLE store_experiences (
  id INTEGER PRIMARY KEY,
  store_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  person_id TEXT NOT NULL DEFAULT '',
  customer TEXT NOT NULL DEFAULT '',
  phone TEXT NOT NULL DEFAULT '',
  lead_id TEXT,
  deal_at INTEGER,
  cared_at INTEGER,
  source TEXT NOT NULL DEFAULT '',
  external_id TEXT UNIQUE
);
CREATE INDEX store_experiences_store ON store_experiences (store_id, at);
CREATE INDEX store_experiences_lead ON store_experiences (lead_id) WHERE lead_id IS NOT NULL;

-- The computed code per store and day (the sweep after closing time; /store recomputes today on demand).
CREATE TABLE store_health (
  store_id TEXT NOT NULL,
  day TEXT NOT NULL,
  colour TEXT NOT NULL,
  detail TEXT NOT NULL,
  computed_at INTEGER NOT NULL,
  PRIMARY KEY (store_id, day)
);

-- Fix tasks opened by a red (or orange) dimension; the card, its buttons and the escalation.
CREATE TABLE store_fixes (
  id INTEGER PRIMARY KEY,
  store_id TEXT NOT NULL,
  day TEXT NOT NULL,
  dimension TEXT NOT NULL,
  colour TEXT NOT NULL,
  issues TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'support', 'fixed', 'not_applicable')),
  opened_at INTEGER NOT NULL,
  due_at INTEGER NOT NULL,
  escalated_at INTEGER,
  closed_at INTEGER,
  closed_by TEXT,
  UNIQUE (store_id, day, dimension)
);
CREATE INDEX store_fixes_open ON store_fixes (status, due_at);

-- Who did what to a fix task, when: opened, pressed, photo, escalated, closed.
CREATE TABLE store_fix_audit (
  id INTEGER PRIMARY KEY,
  fix_id INTEGER NOT NULL,
  at INTEGER NOT NULL,
  person_id TEXT NOT NULL DEFAULT '',
  action TEXT NOT NULL,
  detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX store_fix_audit_fix ON store_fix_audit (fix_id, at);

-- Per store and local day: which scheduled steps already ran (health sweep, morning pack), exactly once.
CREATE TABLE store_runs (
  store_id TEXT NOT NULL,
  day TEXT NOT NULL,
  step TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (store_id, day, step)
);

-- Promotion days (bot.toml [stores] promotion_days or imported), optionally for one area / store only.
CREATE TABLE store_promotions (
  day TEXT NOT NULL,
  scope TEXT NOT NULL DEFAULT '',
  name TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (day, scope)
);

-- Weather per city and day, cached: one provider call per city and day.
CREATE TABLE weather_cache (
  city TEXT NOT NULL,
  day TEXT NOT NULL,
  provider TEXT NOT NULL,
  precipitation_mm REAL,
  summary TEXT NOT NULL DEFAULT '',
  fetched_at INTEGER NOT NULL,
  PRIMARY KEY (city, day)
);
