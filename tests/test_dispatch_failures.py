"""The dispatcher's failure paths: one bad row in a batch rolls back alone, a UserInputError is answered, an
internal error gets an apology addressed like any answer (actor resolved through the directory), an apology that
cannot be queued never takes the batch down, and a re-run batch never queues a reply twice. Deferred jobs are
retried, then failed with one error reply."""

from __future__ import annotations

import dataclasses

from bot.context import Services
from bot.deferred import MAX_ATTEMPTS, DeferredRunner
from bot.dispatcher import Dispatcher
from bot.errors import UserInputError
from bot.events import Actor, Message
from bot.org import Directory, load_org_section
from bot.replies import Reply, Target
from bot.router import Router
from prompts import Prompts
from store import deferred as deferred_store
from store import inbox as inbox_store
from store import outbox as outbox_store


def build(store, clock, config, router: Router) -> Dispatcher:
    load_org_section(store, config.org)
    services = Services(store=store, config=config, clock=clock, directory=Directory(store), prompts=Prompts("zh-CN"))
    return Dispatcher(services, router.compile())


def test_router() -> tuple[Router, list[str]]:
    seen: list[str] = []
    router = Router("probe")

    @router.on(Message)
    def on_message(event, ctx):
        ctx.store.conn.execute("INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)", (event.event_id, event.text))
        if event.text == "boom":
            raise RuntimeError("handler bug")
        if event.text == "bad":
            raise UserInputError("金额要写数字，例如 /预测 3")
        seen.append(event.text)
        ctx.reply(f"ok {event.text}")

    return router, seen


test_router.__test__ = False  # a helper, not a test


def put(store, clock, ext: str, text: str, *, platform: str = "wecom", user: str = "zhangwei", to_bot: bool = True,
        handoff: bool = False) -> None:
    ev = Message(event_id=f"{platform}:{ext}", platform=platform, occurred_at=clock.now_ms(),
                 received_at=clock.now_ms(), actor=Actor(platform_id=user), text=text, to_bot=to_bot)
    with store.transaction():
        inbox_store.accept(store, platform, ext, {"MsgId": ext}, ev.to_dict(), clock.now_ms(),
                           handoff=ev if handoff else None)


def kv_keys(store) -> list[str]:
    return [r[0] for r in store.conn.execute("SELECT key FROM kv WHERE key LIKE 'wecom:%' ORDER BY key")]


def statuses(store) -> dict[str, str]:
    return {r[0]: r[1] for r in store.conn.execute("SELECT external_id, status FROM inbox")}


def test_one_bad_row_rolls_back_alone_and_its_sender_gets_a_resolved_apology(store, clock, config):
    router, seen = test_router()
    dispatcher = build(store, clock, config, router)
    put(store, clock, "m1", "one")
    put(store, clock, "m2", "boom")
    put(store, clock, "m3", "three")
    assert dispatcher.process_pending() == 3
    assert seen == ["one", "three"]
    assert kv_keys(store) == ["wecom:m1", "wecom:m3"]  # the failed row's own write was rolled back
    assert statuses(store) == {"m1": "done", "m2": "failed", "m3": "done"}
    error = store.conn.execute("SELECT error FROM inbox WHERE external_id = 'm2'").fetchone()[0]
    assert error.startswith("RuntimeError: handler bug (ref ")
    ref = error.rsplit("ref ", 1)[1].rstrip(")")
    (apology,) = [r for r in outbox_store.all_in_order(store) if r.source_event_id == "wecom:m2"]
    assert ref in apology.reply["text"]
    # addressed exactly like the handler's own answers: same platform user, and the person is known
    (answer,) = [r for r in outbox_store.all_in_order(store) if r.source_event_id == "wecom:m1"]
    assert apology.target == answer.target
    assert apology.target["person_id"] == "r1" and apology.target["user_id"] == "zhangwei"


def test_apology_from_a_replayed_console_line_goes_to_the_person(store, clock, config):
    """Events from a platform that cannot be answered in place are answered on the person's platform; the apology
    used to be addressed to the raw actor id on the console instead (its actor was never resolved)."""
    config = dataclasses.replace(config, wecom=dataclasses.replace(config.wecom, enabled=True))
    router, _seen = test_router()
    dispatcher = build(store, clock, config, router)
    put(store, clock, "r1", "boom", platform="replay", user="张伟")
    dispatcher.process_pending()
    (apology,) = outbox_store.all_in_order(store)
    assert (apology.platform, apology.target["user_id"], apology.target["person_id"]) == ("wecom", "zhangwei", "r1")


def test_no_apology_for_messages_not_addressed_to_the_bot(store, clock, config):
    router, _seen = test_router()
    dispatcher = build(store, clock, config, router)
    put(store, clock, "m1", "boom", to_bot=False)
    dispatcher.process_pending()
    assert statuses(store) == {"m1": "failed"} and outbox_store.all_in_order(store) == []


def test_user_input_error_is_answered_and_the_row_is_done(store, clock, config):
    router, seen = test_router()
    dispatcher = build(store, clock, config, router)
    put(store, clock, "m1", "bad", handoff=True)
    put(store, clock, "m2", "fine")
    dispatcher.process_pending()
    assert statuses(store) == {"m1": "done", "m2": "done"} and seen == ["fine"]
    assert kv_keys(store) == ["wecom:m2"]
    replies = {r.source_event_id: r for r in outbox_store.all_in_order(store)}
    assert replies["wecom:m1"].reply["text"] == "金额要写数字，例如 /预测 3"
    assert replies["wecom:m1"].target["person_id"] == "r1"


def test_an_apology_that_cannot_be_queued_does_not_sink_the_batch(store, clock, config, monkeypatch):
    router, seen = test_router()
    dispatcher = build(store, clock, config, router)

    def broken_t(key, **values):
        raise KeyError(key)  # e.g. a locale file without the text

    monkeypatch.setattr(dispatcher.services.prompts, "t", broken_t)
    put(store, clock, "m1", "one")
    put(store, clock, "m2", "boom")
    put(store, clock, "m3", "bad")
    put(store, clock, "m4", "four")
    assert dispatcher.process_pending() == 4
    # before: the KeyError escaped the batch, rolled everything back, and the same batch failed on every pass
    assert statuses(store) == {"m1": "done", "m2": "failed", "m3": "done", "m4": "done"}
    assert seen == ["one", "four"] and dispatcher.process_pending() == 0


def test_a_batch_re_run_after_a_crash_queues_each_reply_and_apology_once(store, clock, config):
    router, _seen = test_router()
    dispatcher = build(store, clock, config, router)
    put(store, clock, "m1", "one")
    put(store, clock, "m2", "boom")
    put(store, clock, "m3", "bad")
    dispatcher.process_pending()
    first = [(r.idempotency_key, r.reply["text"]) for r in outbox_store.all_in_order(store)]
    # a crash after the replies were queued but "before" the rows were done: the same rows come round again
    store.conn.execute("UPDATE inbox SET status = 'pending'")
    dispatcher.process_pending()
    again = [(r.idempotency_key, r.reply["text"]) for r in outbox_store.all_in_order(store)]
    assert again == first and len(first) == 3


# ---------------------------------------------------------------- deferred jobs


def runner_with(runtime, fn) -> DeferredRunner:
    return DeferredRunner(runtime.services, {"probe": fn}, in_thread=False)


def add_job(store, target: Target | None = None) -> int:
    target = target or Target("console", user_id="r1", person_id="r1")
    with store.transaction():
        return deferred_store.add(store, "probe", {"n": 1}, target.to_dict(), "console:e1", 0)


def job_row(store, job_id: int):
    return store.conn.execute("SELECT status, attempts, error FROM deferred WHERE id = ?", (job_id,)).fetchone()


async def test_a_deferred_job_that_fails_once_is_retried_and_answers(runtime, store, clock):
    calls: list[int] = []

    def flaky(payload, reader):
        calls.append(payload["n"])
        if len(calls) == 1:
            raise OSError("chart backend not ready")
        return Reply.plain("图表好了")

    runner = runner_with(runtime, flaky)
    job_id = add_job(store)
    assert await runner.run_pending() == 1
    assert tuple(job_row(store, job_id))[:2] == ("pending", 1) and "chart backend" in job_row(store, job_id)[2]
    assert await runner.run_pending() == 0  # waits out its retry delay, no hot loop
    clock.advance(60_000)
    assert await runner.run_pending() == 1
    assert job_row(store, job_id)[0] == "done" and len(calls) == 2
    assert [r.reply["text"] for r in outbox_store.all_in_order(store)] == ["图表好了"]


async def test_a_deferred_job_that_keeps_failing_is_failed_with_one_error_reply(runtime, store, clock):
    calls: list[int] = []

    def broken(payload, reader):
        calls.append(1)
        raise ValueError("bad payload")

    def wrong_type(payload, reader):
        return "a str, not a Reply"

    for fn in (broken, wrong_type):
        runner = runner_with(runtime, fn)
        job_id = add_job(store)
        for _ in range(10):
            await runner.run_pending()
            clock.advance(3_600_000)
        status, attempts, error = job_row(store, job_id)
        assert (status, attempts) == ("failed", MAX_ATTEMPTS), fn.__name__
        errors = [r for r in outbox_store.all_in_order(store) if r.idempotency_key == f"deferred:{job_id}:error"]
        assert len(errors) == 1 and error.rsplit("ref ", 1)[1].rstrip(")") in errors[0].reply["text"]
    assert len(calls) == MAX_ATTEMPTS


async def test_a_failing_deferred_job_does_not_hold_up_the_others(runtime, store, clock):
    done: list[str] = []

    def job(payload, reader):
        if payload.get("bad"):
            raise RuntimeError("no")
        done.append(payload["name"])
        return None

    runner = DeferredRunner(runtime.services, {"probe": job}, in_thread=False)
    with store.transaction():
        for _ in range(12):
            deferred_store.add(store, "probe", {"bad": True}, {"platform": "console"}, "", 0)
        deferred_store.add(store, "probe", {"name": "late"}, {"platform": "console"}, "", 0)
    await runner.run_pending()  # the first 10 fail and wait
    await runner.run_pending()  # the rest run meanwhile
    assert done == ["late"]
    assert deferred_store.count_pending(store) == 12
