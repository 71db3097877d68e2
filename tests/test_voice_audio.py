"""Decode (bundled ffmpeg, SILK), voice activity and the delivery measures, on real encoded audio."""

from __future__ import annotations

import numpy as np
import pytest

from handlers.voice import analysis, audio, synth, vad
from handlers.voice.pipeline import NO_RECOGNISER, OK, SILENT, TOO_LONG, UNDECODABLE, SpeechPipeline, over_limit
from handlers.voice.recognisers import StaticRecogniser
from tests.voice_helpers import clip, silent_clip


@pytest.mark.parametrize("fmt,sniffed", [("amr", "amr"), ("opus", "ogg"), ("wav", "wav"), ("mp3", "other"),
                                         ("silk", "silk")])
def test_every_format_decodes_to_16k_mono_with_the_same_speech(fmt, sniffed):
    decoded = audio.decode(clip(fmt))
    assert decoded.format == sniffed
    assert abs(decoded.duration_ms - 6000) < 150  # codecs pad a frame or two
    activity = vad.detect(decoded.samples)
    # 6 s with 0.3 s lead-in, one 1.5 s pause: about 4 s of speech whatever the codec
    assert 3300 < activity.speech_ms < 4500, activity
    assert len(activity.pauses_ms) == 1 and 1300 < activity.pauses_ms[0] < 1800
    assert decoded.wav_bytes()[:4] == b"RIFF"


@pytest.mark.parametrize("data", [b"", b"garbage" * 40, b"#!AMR\n" + b"\xff" * 3, b"OggS" + bytes(200),
                                  b"\x02#!SILK_V3" + b"\x01" * 50])
def test_garbage_is_undecodable_not_a_crash(data):
    with pytest.raises(audio.Undecodable):
        audio.decode(data)


def test_decode_is_capped_so_a_huge_note_costs_little():
    long = synth.encode(synth.speech_like(30.0, seed=2), "opus")
    decoded = audio.decode(long, max_seconds=10)
    assert decoded.truncated and decoded.duration_ms <= 11_000


def test_silence_and_a_steady_tone_have_no_speech():
    assert vad.detect(audio.decode(silent_clip()).samples).speech_ms == 0
    t = np.arange(16_000 * 3) / 16_000
    tone = (np.sin(2 * np.pi * 300 * t) * 9000).astype(np.int16)
    assert vad.detect(tone).speech_ms == 0
    assert vad.detect(np.zeros(0, dtype=np.int16)).speech_ms == 0


def test_quiet_speech_over_quiet_room_is_still_speech():
    samples = synth.speech_like(5.0, level_db=-32.0, noise_db=-66.0, seed=11)
    assert vad.detect(samples).speech_ms > 2500


def test_pauses_are_the_gaps_over_a_second_in_order():
    samples = synth.speech_like(12.0, pauses_s=(1.2, 0.6, 2.5), seed=5)
    found = analysis.pauses(samples)
    assert len(found) == 2  # 0.6 s is a breath, not a pause
    assert 1000 < found[0] < 1500 and 2300 < found[1] < 2800
    assert analysis.pauses(clip("amr")) == vad.detect(audio.decode(clip("amr")).samples).pauses_ms


def test_speaking_rate_counts_han_characters_and_latin_words_per_minute_of_speech():
    assert analysis.speaking_rate("客户担心交付周期", 2000) == 240.0
    assert analysis.speaking_rate("报价 GW-300 两台", 3000) == 120.0  # 报价两台 = 4, GW and 300 = 2: 6 in 3 s
    assert analysis.speaking_rate("嗯", 0) == 0.0


def test_filler_words_longest_first_and_counted():
    text = "嗯那个就是说客户然后呢就是觉得贵，嗯，对吧"
    assert analysis.filler_words(text) == {"嗯": 2, "那个": 1, "就是说": 1, "然后": 1, "就是": 1, "对吧": 1}
    assert analysis.filler_words("客户要求下周三签合同") == {}
    assert analysis.filler_ratio("") == 0.0


def test_pipeline_statuses_in_order():
    heard = StaticRecogniser({"*": "客户担心交付"})
    pipe = SpeechPipeline([heard], ("platform", "static"))
    assert pipe.run(b"not audio").status == UNDECODABLE
    assert pipe.run(silent_clip()).status == SILENT
    long = synth.encode(synth.speech_like(20.0), "amr")
    assert pipe.run(long, max_seconds=15).status == TOO_LONG
    assert pipe.run(long, max_seconds=45).status == OK
    ok = pipe.run(clip("opus"))
    assert (ok.status, ok.text, ok.source) == (OK, "客户担心交付", "test") and ok.speech_ms > 3000
    # the platform's transcript wins and survives a decode failure; nobody to recognise → no_recogniser
    assert pipe.run(b"not audio", platform_transcript="钉钉转写").text == "钉钉转写"
    assert SpeechPipeline([], ("platform", "funasr")).run(clip("amr")).status == NO_RECOGNISER
    crashing = StaticRecogniser({"*": "x"}, fail_times=1)
    failed = SpeechPipeline([crashing], ("static",)).run(clip("amr"))
    assert failed.status == NO_RECOGNISER and failed.retryable


def test_limits_have_a_second_of_grace():
    assert not over_limit(15_900, 15) and over_limit(16_100, 15)


@pytest.mark.parametrize("noise_db", [-62.0, -45.0, -32.0])
def test_background_noise_does_not_count_as_speech(noise_db):
    activity = vad.detect(synth.speech_like(10.0, pauses_s=(1.5,), noise_db=noise_db, seed=4))
    assert 7000 < activity.speech_ms < 8300 and len(activity.pauses_ms) == 1


def test_speech_without_pauses_is_mostly_voiced():
    assert vad.detect(synth.speech_like(10.0, seed=8)).speech_ms > 8500
