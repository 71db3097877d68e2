-- /备注: the rep wrote the deal is off ("项目取消了", "选了别家", "没中标"). A note never closes a deal (it can be
-- wrong; the CRM import does), but until then its probability is capped low (model.CALLED_OFF_CAP), so neither
-- /商机 nor /预测 keeps counting a deal its own rep called lost. A later deposit, a tender won, a note that it is
-- back on, or a /调整 of the probability lifts it.
ALTER TABLE deal_details ADD COLUMN called_off INTEGER NOT NULL DEFAULT 0;
