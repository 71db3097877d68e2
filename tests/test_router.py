"""Router and filters: every observer runs, the first handler wins, filters compose with & | ~ and hand data to the
handler; commands route by canonical name whatever language was typed."""

from __future__ import annotations

from bot.events import Actor, CallRecord, Command, Message, Role, Tick
from bot.router import F, Router, command_is, from_admin, role_is, text_contains, to_bot


def msg(text: str = "hi", role: Role = Role.REP, to_bot_: bool = False, admin: bool = False) -> Message:
    return Message(event_id=f"t:{text}", platform="console", occurred_at=1,
                   actor=Actor(platform_id="u", role=role, is_admin=admin), text=text, to_bot=to_bot_)


def test_all_observers_run_then_first_handler_wins():
    calls: list[str] = []
    a, b = Router("a"), Router("b")

    @a.observe(Message)
    def obs_a(event, ctx):
        calls.append("obs_a")

    @b.observe(Message)
    def obs_b(event, ctx):
        calls.append("obs_b")

    @a.on(Message)
    def first(event, ctx):
        calls.append("first")

    @b.on(Message)
    def second(event, ctx):
        calls.append("second")

    root = Router("root").include(a, b).compile()
    assert root.dispatch(msg(), None) is True
    assert calls == ["obs_a", "obs_b", "first"]


def test_observers_only_see_their_type_and_unmatched_returns_false():
    seen: list[str] = []
    r = Router("r")

    @r.observe(CallRecord)
    def on_call(event, ctx):
        seen.append("call")

    @r.on(Tick)
    def on_tick(event, ctx):
        seen.append("tick")

    compiled = r.compile()
    assert compiled.dispatch(msg(), None) is False
    assert seen == []
    compiled.dispatch(CallRecord(event_id="c", platform="calls", occurred_at=1), None)
    assert seen == ["call"]


def test_filters_and_or_not():
    is_rep = role_is(Role.REP)
    is_mgr = role_is(Role.MANAGER)
    says_price = text_contains("报价")
    rep_and_price = is_rep & says_price
    rep_or_mgr = is_rep | is_mgr
    not_rep = ~is_rep
    assert rep_and_price(msg("发报价单"), None)
    assert not rep_and_price(msg("你好"), None)
    assert not rep_and_price(msg("发报价单", Role.CUSTOMER), None)
    assert rep_or_mgr(msg(role=Role.MANAGER), None) and rep_or_mgr(msg(), None)
    assert not rep_or_mgr(msg(role=Role.CS), None)
    assert not_rep(msg(role=Role.CS), None) and not not_rep(msg(), None)
    assert (from_admin() & ~is_rep)(msg(role=Role.MANAGER, admin=True), None)
    assert to_bot()(msg(to_bot_=True), None) and not to_bot()(msg(), None)


def test_filter_data_is_injected_and_merged():
    got: dict = {}
    r = Router("r")
    product = F(lambda event, ctx: {"product": "X1"} if "X1" in event.text else False)
    urgency = F(lambda event, ctx: {"urgent": True})

    @r.on(Message, product & urgency)
    def handler(event, ctx, product, urgent):
        got.update(product=product, urgent=urgent)

    compiled = r.compile()
    assert compiled.dispatch(msg("X1 报价"), None)
    assert got == {"product": "X1", "urgent": True}
    got.clear()
    assert not compiled.dispatch(msg("别的"), None)
    assert got == {}


def test_a_failing_filter_passes_over_to_the_next_handler():
    calls: list[str] = []
    r = Router("r")

    @r.on(Message, role_is(Role.MANAGER))
    def managers(event, ctx):
        calls.append("mgr")

    @r.on(Message)
    def anyone(event, ctx):
        calls.append("any")

    r.compile().dispatch(msg(), None)
    assert calls == ["any"]


def test_command_handler_gets_args_and_unknown_commands_do_not_match():
    got: list = []
    r = Router("r")

    @r.command("forecast")
    def forecast(event, ctx, args):
        got.append(args)

    compiled = r.compile()
    cmd = Command(event_id="c1", platform="console", occurred_at=1, name="forecast", args=("华东", "Q2"), raw="/预测 华东 Q2")
    assert compiled.dispatch(cmd, None)
    assert got == [("华东", "Q2")]
    unknown = Command(event_id="c2", platform="console", occurred_at=1, name="forecast", known=False)
    assert not command_is("forecast")(unknown, None)


def test_including_a_router_twice_is_refused():
    a = Router("a")
    root = Router("root").include(a)
    try:
        root.include(a)
    except ValueError as exc:
        assert "twice" in str(exc)
    else:
        raise AssertionError("second include accepted")


def test_duplicate_job_names_are_refused():
    a, b = Router("a"), Router("b")
    a.job("render")(lambda payload, reader: None)
    b.job("render")(lambda payload, reader: None)
    try:
        Router("root").include(a, b).compile()
    except ValueError as exc:
        assert "render" in str(exc)
    else:
        raise AssertionError("duplicate job accepted")


async def test_chinese_and_english_command_names_reach_the_same_handler(runtime):
    runtime.console.type_line("张伟", "/我是谁")
    runtime.console.type_line("张伟", "/whoami")
    await runtime.settle()
    first, second = (d.text for d in runtime.console.delivered)
    assert first == second and "张伟" in first
