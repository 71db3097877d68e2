-- /metrics counts dead replies per platform on every scrape: without this index that is a scan of every reply ever sent.
CREATE INDEX IF NOT EXISTS outbox_dead ON outbox (platform) WHERE status = 'dead';
