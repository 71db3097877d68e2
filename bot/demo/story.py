"""The demo's debrief and practice story, played after the replay: the story rep's customer meeting ends → the
debrief card → a voice note (a real AMR file made with the bundled ffmpeg, decoded and measured by the real speech
pipeline; only the recogniser's words are supplied here, the one boundary no model can fill on a demo machine) →
the deal's next step → a short practice session against the virtual customer.

What people say and type are inputs, so they live here (like bot/demo/script.py), not in prompts/.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from bot.demo.company import Company
from bot.demo.replay import DemoDriver
from bot.demo.script import story
from bot.events import Actor, CalendarEvent
from handlers.voice import synth
from handlers.voice.recognisers import StaticRecogniser

MINUTE = 60_000
# What the rep says into the phone after the meeting: spoken, so fillers and no punctuation.
SPOKEN = ("嗯那个客户最担心的是交付周期怕耽误产线改造然后我给他看了三一重工的案例三十天就上线了"
          "下一步他答应下周三带李总来工厂看演示")
PRACTICE = [("/陪练 竞品", 0), ("我们给三一重工做的项目三十天上线，维护费比别家低一半，可以先看看案例", 25_000), ("/结束", 60_000)]


async def play(driver: DemoDriver, company: Company, typed: Callable[[int, str, str], None]) -> None:
    """`typed(at_ms, person_id, text)` shows what a person did in the transcript."""
    rt, console = driver.runtime, driver.console
    assert rt is not None and console is not None
    s = story(company)
    if not s.active:
        return
    lead = company.lead(s.active)
    customer = company.customer(lead.customer_id)
    rep = lead.owner_id
    # from here on the demo company debriefs its meetings
    rt.services.config = dataclasses.replace(rt.services.config,
                                             debrief=dataclasses.replace(rt.services.config.debrief, enabled=True))
    rt.media.register("console", console.fetch_media)
    rt.services.extras["voice"].use_recognisers([StaticRecogniser({"*": SPOKEN}, source="demo")])

    now = driver.clock.now_ms()
    start, end = now + MINUTE, now + 46 * MINUTE
    console.ctx.accept("console", "story-meeting", {}, CalendarEvent(
        event_id="demo:story-meeting", platform="console", occurred_at=now, received_at=now,
        actor=Actor(platform_id=rep), title="交付方案沟通", starts_at=start, ends_at=end,
        attendees=(rep, customer.external_id), customer_hint=customer.id))
    await rt.advance_to(end + rt.services.config.debrief.ask_after_minutes * MINUTE + 5 * MINUTE)

    async def act(text: str, after_ms: int, do: Callable[[], object]) -> None:
        await rt.advance_to(driver.clock.now_ms() + after_ms)
        typed(driver.clock.now_ms(), rep, text)
        do()
        await rt.settle()

    await act("1", MINUTE, lambda: console.type_line(rep, "1"))  # 开始语音复盘
    note = Path(rt.services.config.bot.data_dir) / "demo-voice" / "debrief-note.amr"
    note.parent.mkdir(parents=True, exist_ok=True)
    note.write_bytes(synth.encode(synth.speech_like(14.0, pauses_s=(1.3,), seed=11), "amr"))
    await act(f"/语音 {note.name}", 20_000, lambda: console.send_voice(rep, str(note)))
    await act(f"/商机 {lead.title}", MINUTE, lambda: console.type_line(rep, f"/商机 {lead.title}"))
    for text, wait in PRACTICE:
        await act(text, wait or MINUTE, lambda text=text: console.type_line(rep, text))
