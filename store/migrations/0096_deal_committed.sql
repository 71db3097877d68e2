-- /备注: a deposit paid ("定金已付") or a tender won ("中标了") commits the customer beyond an intent letter — the
-- letter's four conditions (公章/明确预算范围/指定对接人/约定下次会议时间) no longer cap the deal's probability.
-- The deal stays open: only the CRM (salespulse import deals) closes it.
ALTER TABLE deal_details ADD COLUMN committed INTEGER NOT NULL DEFAULT 0;
