-- Cards we sent on DingTalk and Feishu, so a button press can be mapped back to its Button (action + value) and
-- the card can be re-rendered (updated) after the press. card_ref is DingTalk's cardBizId or Feishu's message_id.
CREATE TABLE platform_cards (
  platform TEXT NOT NULL,
  card_ref TEXT NOT NULL,
  target TEXT NOT NULL,
  reply TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER,
  PRIMARY KEY (platform, card_ref)
);
