-- Baseline metrics (issue 4 §7): effective actions per rep are counted from 销售动作 tags in a time window.
CREATE INDEX event_tags_category_time ON event_tags (category, occurred_at);
