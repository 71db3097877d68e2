-- enable_duplicate_check makes WeCom drop a message whose request JSON equals one sent within the interval (发送应用
-- 消息: "在一定时间间隔内，同样内容（请求json）的消息，不会重复收到") — by content, not by our idempotency key. So a
-- retry may only ask for it when no *other* reply with the same recipient and body went out within the interval;
-- otherwise the retry could be swallowed as a copy of a different, identical reply (a fixed answer asked twice).
ALTER TABLE wecom_send_attempts ADD COLUMN body_digest TEXT;
ALTER TABLE wecom_send_attempts ADD COLUMN last_at INTEGER;
CREATE INDEX wecom_send_attempts_digest ON wecom_send_attempts (body_digest, last_at);
