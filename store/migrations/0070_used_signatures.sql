-- Request signatures already accepted, remembered for as long as they could still pass the timestamp check.
-- DingTalk's outgoing robot signs only the timestamp (sign = HMAC(secret, timestamp)), so a captured header pair
-- would otherwise authenticate any body until it goes stale. A pair is accepted again only with the same body
-- (a redelivery; the inbox dedupes it), never with another. Kept in SQLite so a restart does not reopen the window.
CREATE TABLE used_signatures (
  platform TEXT NOT NULL,
  signature TEXT NOT NULL,
  body_sha256 TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (platform, signature)
) WITHOUT ROWID;
CREATE INDEX used_signatures_expiry ON used_signatures (expires_at);
