"""`salespulse transcribe FILE`: the same pipeline on a file, its JSON, and `--bench` with and without a model."""

from __future__ import annotations

import json

from bot.cli import main
from handlers.voice import service as service_mod
from handlers.voice.recognisers import StaticRecogniser
from tests.voice_helpers import clip


def test_transcribe_reports_speech_and_says_recognition_is_off(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    note = tmp_path / "n.opus"
    note.write_bytes(clip("opus"))
    assert main(["transcribe", str(note), "--json"]) == 1  # no recogniser: not "ok"
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "no_recogniser" and 3000 < out["speech_ms"] < 4600 and len(out["pauses_ms"]) == 1
    assert main(["transcribe", str(note), "--bench"]) == 1
    assert "[asr] enabled = false" in capsys.readouterr().out
    assert main(["transcribe", str(tmp_path / "missing.amr")]) == 2
    assert "missing.amr" in capsys.readouterr().err


def test_transcribe_bench_reports_the_real_time_factor(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(service_mod, "build_recognisers",
                        lambda config: [StaticRecogniser({"*": "嗯那个客户就是担心交付周期"})])
    note = tmp_path / "n.amr"
    note.write_bytes(clip("amr"))
    assert main(["transcribe", str(note), "--bench", "--runs", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["text"] == "嗯那个客户就是担心交付周期" and out["runs"] == 2
    assert out["real_time_factor"] >= 0 and out["fillers"] == {"嗯": 1, "那个": 1, "就是": 1}
    assert out["chars_per_minute"] > 0
    assert main(["transcribe", str(note)]) == 0
    text = capsys.readouterr().out
    assert "已识别" in text and "担心交付周期" in text


def test_bench_without_the_model_says_why_in_chinese(tmp_path, capsys, monkeypatch):
    """`transcribe --bench` with [asr] on but no model on disk (the usual first try) explains it in Chinese, naming
    the folder — not "FunASR model folder … is missing or has no weights" inside a Chinese line."""
    monkeypatch.chdir(tmp_path)
    toml = tmp_path / "bot.toml"
    toml.write_text('[asr]\nenabled = true\nmodel_dir = "models/paraformer-zh"\n', encoding="utf-8")
    note = tmp_path / "n.amr"
    note.write_bytes(clip("amr"))
    assert main(["-c", str(toml), "transcribe", str(note), "--bench"]) == 1
    out = capsys.readouterr().out
    assert "models/paraformer-zh" in out and "不存在或没有模型文件" in out, out
    for english in ("is missing", "no weights", "does not import", "FunASR model folder"):
        assert english not in out, out
