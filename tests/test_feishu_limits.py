"""Feishu body limits (card and post 30 KB, text 150 KB): a long forecast or digest is cut visibly to fit instead of
being refused (a permanent error → dead); buttons, title and fields survive; short replies are untouched."""

from __future__ import annotations

import json

import pytest
from platform_helpers import attach_feishu, feishu_fixtures

from adapters.feishu import render
from bot.replies import Button, Reply, ReplyKind, Target

pytestmark = pytest.mark.timeout(30)

fake, config = feishu_fixtures()
CREATE = "/open-apis/im/v1/messages"


@pytest.fixture
async def adapter(runtime):
    a = attach_feishu(runtime)
    yield a
    await a.stop()


def forecast_text(lines: int) -> str:
    return "\n".join(f"- 商机 {i:04d} 上海某某科技 XX型号 ×20：赢率 42%（报价已发，客户说“价格再谈”）" for i in range(lines))


def refuse_big(fake):
    ok = fake.routes[("POST", CREATE)]

    def respond(rec):  # what Feishu does with an over-size card / post body
        body = rec.json
        limit = 150 * 1024 if body["msg_type"] == "text" else 30 * 1024
        if len(rec.body) > limit:
            return 400, {"code": 230025, "msg": "The length of the message content reaches its limit"}
        return ok(rec)

    fake.routes[("POST", CREATE)] = respond


@pytest.mark.parametrize("reply", [
    Reply.card("本季预测", forecast_text(600), fields=[("区间", "¥1.2M–¥1.9M")],
               buttons=[Button("调整", "forecast.adjust", {"deal": "D1"})]),
    Reply(kind=ReplyKind.MARKDOWN, text=forecast_text(600), title="本季预测"),
    Reply.plain(forecast_text(3000)),
])
async def test_long_replies_fit_feishu_limits(adapter, fake, reply):
    refuse_big(fake)
    message_id = await adapter.send(Target("feishu", user_id="ou_zhangwei"), reply, "long")
    assert message_id.startswith("om_sent_")
    (sent,) = fake.calls(CREATE)
    content = sent.json["content"]
    assert "…" in content and "商机 0000" in content
    if reply.kind == "card":
        card = json.loads(content)
        assert card["header"]["title"]["content"] == "本季预测"
        assert card["elements"][-1]["actions"][0]["value"] == {"action": "forecast.adjust", "value": {"deal": "D1"}}
        assert "¥1.2M–¥1.9M" in content


def test_short_replies_are_untouched():
    reply = Reply.card("日报", "今日新增 3", buttons=[Button("查看", "digest.open", {})])
    assert render.message(reply)[1] == json.dumps(render.card(reply), ensure_ascii=False)
    assert "…" not in render.message(Reply.plain("你好"))[1]
