"""Voice notes on the normal path: console `/语音 FILE` → transcription job → one VoiceTranscript → an answer."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from bot.deferred import DeferredRunner, JobContext, LaneLimits
from bot.events import Actor, Message, MessageKind, VoiceTranscript
from bot.router import JobSpec
from handlers.voice.recognisers import StaticRecogniser
from store import deferred as deferred_store
from store import voice as voice_store
from tests.voice_helpers import clip, silent_clip, transcripts, voice_config, voice_runtime


@pytest.fixture
def vconfig(config, tmp_path):
    return voice_config(config, tmp_path)


def note_file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def said(rt) -> list[str]:
    return [d.text for d in rt.console.delivered]


async def test_console_voice_note_is_transcribed_once_and_answered(vconfig, store, clock, tmp_path):
    rec = StaticRecogniser({"*": "客户最担心交付周期"})
    rt = voice_runtime(vconfig, store, clock, recogniser=rec)
    f = note_file(tmp_path, "a.amr", clip("amr"))
    assert rt.console.type_line("r1", f"/语音 {f}")
    await rt.settle()
    [ev] = transcripts(store)
    assert ev["status"] == "ok" and ev["text"] == "客户最担心交付周期" and ev["source"] == "test"
    assert ev["event_id"] == f"voice:{ev['message_event_id']}" and ev["platform"] == "console"
    assert 3000 < ev["speech_ms"] < 4600 and len(ev["pauses_ms"]) == 1
    assert ev["actor"]["platform_id"] == "r1"
    note = voice_store.get(store, ev["message_event_id"])
    assert note.status == "ok" and note.person_id == "r1" and note.to_bot
    wav = Path(vconfig.bot.data_dir) / note.audio_path
    assert wav.read_bytes()[:4] == b"RIFF"
    assert said(rt) == ["🎙 听到了（6 秒）：客户最担心交付周期"]  # no help text for the voice message itself
    # hotwords: the catalogue's product codes reach the recogniser
    assert "GW-300" in rec.calls[0][2]


@pytest.mark.parametrize("name,data,key", [
    ("s.amr", silent_clip(), "没有听到说话声"),
    ("g.amr", b"garbage" * 30, "无法解码"),
])
async def test_bad_notes_get_one_line_saying_what_to_do(vconfig, store, clock, tmp_path, name, data, key):
    rt = voice_runtime(vconfig, store, clock, recogniser=StaticRecogniser({"*": "不会用到"}))
    rt.console.type_line("r1", f"/voice {note_file(tmp_path, name, data)}")
    await rt.settle()
    [text] = said(rt)
    assert key in text


async def test_too_long_note_is_not_recognised(vconfig, store, clock, tmp_path):
    from handlers.voice import synth

    rec = StaticRecogniser({"*": "x"})
    cfg = dataclasses.replace(vconfig, asr=dataclasses.replace(vconfig.asr, max_single_note_s=5))
    rt = voice_runtime(cfg, store, clock, recogniser=rec)
    rt.console.type_line("r1", f"/语音 {note_file(tmp_path, 'l.opus', synth.encode(synth.speech_like(9), 'opus'))}")
    await rt.settle()
    assert transcripts(store)[0]["status"] == "too_long" and rec.calls == []
    assert "超过了 5 秒" in said(rt)[0]


async def test_without_a_recogniser_the_rep_is_asked_to_type_and_the_audio_is_kept(vconfig, store, clock, tmp_path):
    rt = voice_runtime(vconfig, store, clock)
    rt.console.type_line("r1", f"/语音 {note_file(tmp_path, 'a.amr', clip('amr'))}")
    await rt.settle()
    [ev] = transcripts(store)
    assert ev["status"] == "no_recogniser" and ev["audio_ref"]
    assert (Path(vconfig.bot.data_dir) / ev["audio_ref"]).is_file()
    assert "请把内容用文字再发一遍" in said(rt)[0]


async def test_missing_console_file_is_said_at_once(vconfig, store, clock, tmp_path):
    rt = voice_runtime(vconfig, store, clock)
    echoed: list[str] = []
    rt.console.echo = echoed.append
    assert not rt.console.type_line("r1", f"/语音 {tmp_path / 'nope.amr'}")
    assert "找不到语音文件" in echoed[0]


async def test_transcript_lands_once_when_the_recogniser_fails_then_succeeds(vconfig, store, clock, tmp_path):
    rec = StaticRecogniser({"*": "下周三再约"}, fail_times=1)
    rt = voice_runtime(vconfig, store, clock, recogniser=rec)
    rt.console.type_line("r1", f"/语音 {note_file(tmp_path, 'a.amr', clip('amr'))}")
    await rt.settle()
    assert transcripts(store) == []  # first attempt failed, waits out its retry delay
    await rt.advance_to(clock.now_ms() + 60_000)
    [ev] = transcripts(store)
    assert ev["status"] == "ok" and ev["text"] == "下周三再约"
    # the same job run again (a crash between its work and COMMIT, replayed) still yields one transcript
    job = store.conn.execute("SELECT id FROM deferred WHERE job = 'voice.transcribe'").fetchone()[0]
    store.conn.execute("UPDATE deferred SET status = 'pending' WHERE id = ?", (job,))
    await rt.settle()
    assert len(transcripts(store)) == 1 and len(said(rt)) == 1


async def test_a_redispatched_voice_message_is_not_transcribed_twice(vconfig, store, clock, tmp_path):
    rt = voice_runtime(vconfig, store, clock, recogniser=StaticRecogniser({"*": "好的"}))
    rt.console.type_line("r1", f"/语音 {note_file(tmp_path, 'a.amr', clip('amr'))}")
    await rt.settle()
    store.conn.execute("UPDATE inbox SET status = 'pending' WHERE event LIKE '%\"kind\": \"voice\"%'")
    await rt.settle()
    assert store.conn.execute("SELECT COUNT(*) FROM deferred WHERE job = 'voice.transcribe'").fetchone()[0] == 1
    assert len(transcripts(store)) == 1


async def test_archive_voice_notes_need_a_fetcher_and_never_get_an_answer(vconfig, store, clock, tmp_path):
    rt = voice_runtime(vconfig, store, clock, recogniser=StaticRecogniser({"*": "客户说下周付款"}))
    def archive_note(n: int) -> Message:
        return Message(event_id=f"wecom:arch{n}", platform="wecom", occurred_at=clock.now_ms(),
                       actor=Actor(platform_id="wmCUSTOMER"), kind=MessageKind.VOICE, media_id=f"sdk{n}",
                       conversation_id="single:zhangwei:wmCUSTOMER", to_bot=False)
    rt.console.ctx.accept("wecom", "arch1", {}, archive_note(1))
    await rt.settle()
    assert transcripts(store) == []  # no WeCom fetcher on this runtime: nothing to hear it with

    async def fetch(request):
        assert request.media_id == "sdk2"
        return clip("amr")
    rt.media.register("wecom", fetch)
    rt.console.ctx.accept("wecom", "arch2", {}, archive_note(2))
    await rt.settle()
    [ev] = transcripts(store)
    assert ev["text"] == "客户说下周付款" and ev["platform"] == "wecom"
    assert rt.console.delivered == []


async def test_download_failure_retries_then_becomes_undecodable_without_an_error_reply(vconfig, store, clock):
    from bot.media import MediaUnavailable

    rt = voice_runtime(vconfig, store, clock, recogniser=StaticRecogniser({"*": "x"}))
    calls = []

    async def flaky(request):
        calls.append(request)
        raise MediaUnavailable("HTTP 502")
    rt.media.register("wecom", flaky)
    note = Message(event_id="wecom:m1", platform="wecom", occurred_at=clock.now_ms(), actor=Actor(platform_id="zhangwei"),
                   kind=MessageKind.VOICE, media_id="MEDIA1", to_bot=True)
    rt.console.ctx.accept("wecom", "m1", {}, note)
    for _ in range(4):
        await rt.advance_to(clock.now_ms() + 60_000)
    assert len(calls) == 3
    [ev] = transcripts(store)
    assert ev["status"] == "undecodable"
    assert store.conn.execute("SELECT status FROM deferred").fetchone()[0] == "done"


async def test_platform_transcript_is_used_even_when_the_download_fails(vconfig, store, clock):
    from bot.media import MediaUnavailable

    rt = voice_runtime(vconfig, store, clock)

    async def gone(request):
        raise MediaUnavailable("expired", permanent=True)
    rt.media.register("dingtalk", gone)
    note = Message(event_id="dingtalk:d1", platform="dingtalk", occurred_at=clock.now_ms(),
                   actor=Actor(platform_id="staff1"), kind=MessageKind.VOICE, media_id="CODE",
                   transcript="客户想要下周三演示", duration_ms=4000, to_bot=True)
    rt.console.ctx.accept("dingtalk", "d1", {}, note)
    await rt.settle()
    [ev] = transcripts(store)
    assert (ev["status"], ev["text"], ev["source"]) == ("ok", "客户想要下周三演示", "platform")


async def test_speech_lane_runs_in_the_background_and_bounded():
    """In serve mode a lane's jobs run as background tasks, at most `in_flight` at a time, and the main lane
    is not held up by them."""
    from bot.app import Runtime
    from bot.clock import VirtualClock
    from bot.config import load_config
    from store import open_store

    store = open_store(":memory:")
    rt = Runtime(config=load_config(None), store=store, clock=VirtualClock(0))
    gate = asyncio.Event()
    started: list[int] = []

    async def slow(payload: dict, jctx: JobContext):
        started.append(payload["n"])
        await gate.wait()
        return [VoiceTranscript(event_id=f"voice:t{payload['n']}", platform="console", occurred_at=0,
                                message_event_id=f"t{payload['n']}")]

    def quick(payload, reader):
        return None

    woken: list[int] = []
    runner = DeferredRunner(rt.services, {"slow": JobSpec(slow, "speech", True), "quick": quick},
                            lanes={"speech": LaneLimits(workers=1, in_flight=2)}, on_events=lambda: woken.append(1))
    with store.transaction():
        for n in range(3):
            deferred_store.add(store, "slow", {"n": n}, {"platform": "console"}, "", 0)
        deferred_store.add(store, "quick", {}, {"platform": "console"}, "", 0)
    await runner.run_pending(wait=False)
    await asyncio.sleep(0)
    assert started == [0, 1]  # the third waits in SQLite
    assert deferred_store.count_pending(store) == 3  # the quick job ran although the lane is busy
    gate.set()
    await runner.wait_idle()
    await runner.run_pending(wait=True)
    assert started == [0, 1, 2] and deferred_store.count_pending(store) == 0
    assert store.conn.execute("SELECT COUNT(*) FROM inbox WHERE external_id LIKE 'voice:t%'").fetchone()[0] == 3
    assert woken
    runner.close()
    rt.close()
    store.close()


async def test_notes_kept_without_a_recogniser_are_recognised_once_one_is_set_up(vconfig, store, clock, tmp_path):
    from handlers.voice import requeue_waiting

    rt = voice_runtime(vconfig, store, clock)
    rt.console.type_line("r1", f"/语音 {note_file(tmp_path, 'a.amr', clip('amr'))}")
    await rt.settle()
    assert transcripts(store)[0]["status"] == "no_recogniser"
    assert requeue_waiting(rt.services) == 0  # still nobody to hear it
    rec = StaticRecogniser({"*": "客户要求月底前报价"})
    rt.services.extras["voice"].use_recognisers([rec])
    clock.advance(3_600_000)
    assert requeue_waiting(rt.services) == 1
    await rt.settle()
    first, later = transcripts(store)
    assert later["event_id"] == f"{first['event_id']}:retry1" and later["text"] == "客户要求月底前报价"
    assert later["audio_ref"] == first["audio_ref"] and rec.calls
    assert "补上了" in said(rt)[-1] and "客户要求月底前报价" in said(rt)[-1]
    assert voice_store.get(store, first["message_event_id"]).status == "ok"
    assert requeue_waiting(rt.services) == 0


async def test_retention_removes_audio_then_transcripts(vconfig, store, clock, tmp_path):
    from handlers.voice import prune

    rt = voice_runtime(vconfig, store, clock, recogniser=StaticRecogniser({"*": "好的"}))
    rt.console.type_line("r1", f"/语音 {note_file(tmp_path, 'a.amr', clip('amr'))}")
    await rt.settle()
    [ev] = transcripts(store)
    wav = Path(vconfig.bot.data_dir) / ev["audio_ref"]
    assert wav.is_file()
    assert prune(rt.services, clock.now_ms() + 89 * 86_400_000) == 0
    rt.services.config = dataclasses.replace(vconfig, asr=dataclasses.replace(vconfig.asr, audio_retention_days=90))
    assert prune(rt.services, clock.now_ms() + 91 * 86_400_000) == 1
    assert not wav.exists()
    note = voice_store.get(store, ev["message_event_id"])
    assert note.audio_path == "" and note.text == "好的"
    assert prune(rt.services, clock.now_ms() + 366 * 86_400_000) == 1
    assert voice_store.get(store, ev["message_event_id"]) is None


async def test_while_serving_a_slow_recognition_never_holds_up_other_chats(vconfig, store, clock, tmp_path):
    """The serve loop's step with real threads: a note whose recognition blocks does not delay another rep's
    command, and its transcript arrives once the lane finishes."""
    import threading

    release = threading.Event()
    entered = threading.Event()

    def slow(samples, language):
        entered.set()
        assert release.wait(20)
        return "客户下周来看样机"

    rt = voice_runtime(vconfig, store, clock, recogniser=StaticRecogniser(slow), in_thread=True)
    rt.console.type_line("r1", f"/语音 {note_file(tmp_path, 'a.amr', clip('amr'))}")
    await rt._serve_step()  # dispatches the note and starts its job in the speech lane
    assert await asyncio.to_thread(entered.wait, 20)
    rt.console.type_line("r2", "/帮助")
    await rt._serve_step()  # the lane is busy; the help command is answered anyway
    assert any("SalesPulse" in d.text for d in rt.console.delivered if d.target.user_id == "r2")
    assert transcripts(store) == []
    release.set()
    await rt.deferred.wait_idle()
    await rt._serve_step()
    [ev] = transcripts(store)
    assert ev["text"] == "客户下周来看样机"
    assert any("看样机" in d.text for d in rt.console.delivered if d.target.user_id == "r1")
    rt.close()


async def test_a_note_the_platform_says_is_too_long_is_not_even_downloaded(vconfig, store, clock):
    rt = voice_runtime(vconfig, store, clock, recogniser=StaticRecogniser({"*": "x"}))
    fetched = []

    async def fetch(request):
        fetched.append(request)
        return clip("amr")
    rt.media.register("feishu", fetch)
    note = Message(event_id="feishu:om_long", platform="feishu", occurred_at=clock.now_ms(),
                   actor=Actor(platform_id="ou_zhangwei"), kind=MessageKind.VOICE, media_id="file_long",
                   duration_ms=58_000, to_bot=True)
    rt.console.ctx.accept("feishu", "om_long", {}, note)
    await rt.settle()
    [ev] = transcripts(store)
    assert ev["status"] == "too_long" and ev["duration_ms"] == 58_000 and fetched == []


async def test_console_voice_prefix_without_a_file_or_with_a_full_width_slash(vconfig, store, clock, tmp_path):
    """The chat's greeting says "/语音 文件路径": typed bare it gets that usage line, not "没有这个命令"; the
    full-width slash of a Chinese input method sends the note like "/语音"."""
    rec = StaticRecogniser({"*": "客户最担心交付周期"})
    rt = voice_runtime(vconfig, store, clock, recogniser=rec)
    echoed: list[str] = []
    rt.console.echo = echoed.append
    for bare in ("/语音", "/voice", "／语音", " /语音  "):
        assert not rt.console.type_line("r1", bare)
    await rt.settle()
    assert len(echoed) == 4 and all("用法：/语音 文件路径" in e for e in echoed), echoed
    assert said(rt) == []
    assert rt.console.type_line("r1", f"／语音　{note_file(tmp_path, 'a.amr', clip('amr'))}")
    await rt.settle()
    assert said(rt) == ["🎙 听到了（6 秒）：客户最担心交付周期"]
