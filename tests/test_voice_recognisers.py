"""The FunASR recogniser's real loading and calling code, with `funasr`/`torch` replaced at the import boundary
by recording stand-ins (no model can exist here); model folders, hotwords, languages, load-once, doctor lines."""

from __future__ import annotations

import dataclasses
import re
import types

import numpy as np

from bot.config import load_config
from bot.doctor import check_asr
from handlers.voice.recognisers import FunAsrRecogniser, ModelSpec, model_kind, model_ready
from handlers.voice.service import VoiceService, build_recognisers, model_specs
from prompts import Prompts

EN = Prompts("en").t
ZH = Prompts("zh-CN").t


def make_model(folder, kind_line: str):
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text(f"model: {kind_line}\nfrontend: WavFrontend\n")
    (folder / "model.pt").write_bytes(b"\0" * 16)
    return folder


class FakeFunasr:
    """Stands in for the `funasr` package: AutoModel records its arguments and each generate() call."""

    def __init__(self, text: str = "<|zh|><|NEUTRAL|><|Speech|><|withitn|>客户担心交付。") -> None:
        self.loaded: list[dict] = []
        self.calls: list[dict] = []
        fake = self

        class AutoModel:
            def __init__(self, **kwargs):
                fake.loaded.append(kwargs)

            def generate(self, **kwargs):
                fake.calls.append(kwargs)
                return [{"key": "k", "text": text}]

        self.module = types.ModuleType("funasr")
        self.module.AutoModel = AutoModel
        self.post = types.ModuleType("funasr.utils.postprocess_utils")
        self.post.rich_transcription_postprocess = lambda s: re.sub(r"<\|[^|]*\|>", "", s)

    def importer(self, name: str):
        if name == "funasr":
            return self.module
        if name == "funasr.utils.postprocess_utils":
            return self.post
        if name == "torch":
            return types.ModuleType("torch")
        raise ModuleNotFoundError(name)


def test_model_kind_is_read_from_the_folders_config(tmp_path):
    assert model_kind(make_model(tmp_path / "a", "SeacoParaformer")) == "seaco_paraformer"
    assert model_kind(make_model(tmp_path / "b", "SenseVoiceSmall")) == "sensevoice"
    assert model_kind(make_model(tmp_path / "c", "Paraformer")) == "paraformer"
    assert model_kind(tmp_path / "missing") == "unknown" and not model_ready(tmp_path / "missing")


def test_paraformer_gets_hotwords_and_is_loaded_once(tmp_path):
    folder = make_model(tmp_path / "paraformer-zh", "SeacoParaformer")
    vad = make_model(tmp_path / "fsmn-vad", "FsmnVADStreaming")
    fake = FakeFunasr(text="客户担心交付")
    rec = FunAsrRecogniser({"zh": ModelSpec("zh", folder, "seaco_paraformer")}, vad_dir=vad, importer=fake.importer)
    assert rec.unavailable("zh") is None
    samples = np.zeros(16_000, dtype=np.float32)
    for _ in range(2):
        heard = rec.recognise(samples, language="zh", hotwords=["GW-300", "领航自动化"])
    assert heard.text == "客户担心交付" and heard.source == "funasr:seaco_paraformer"
    (loaded,) = fake.loaded  # once, whatever the number of notes
    assert loaded["model"] == str(folder) and loaded["vad_model"] == str(vad)
    assert loaded["disable_update"] is True and loaded["device"] == "cpu"
    call = fake.calls[0]
    assert call["hotword"] == "GW-300 领航自动化" and call["input"] is samples


def test_sensevoice_for_cantonese_cleans_its_tags(tmp_path):
    folder = make_model(tmp_path / "SenseVoiceSmall", "SenseVoiceSmall")
    fake = FakeFunasr()
    rec = FunAsrRecogniser({"yue": ModelSpec("yue", folder, "sensevoice")}, importer=fake.importer)
    heard = rec.recognise(np.zeros(8000, dtype=np.float32), language="yue", hotwords=["GW-300"])
    assert heard.text == "客户担心交付。"
    assert fake.calls[0]["language"] == "yue" and "hotword" not in fake.calls[0]
    assert rec.unavailable("zh") is not None  # no zh model and no auto model


def test_missing_pieces_are_said_not_raised(tmp_path):
    folder = make_model(tmp_path / "p", "Paraformer")

    def broken(name):
        raise OSError("libtorch_cpu.so: cannot open shared object file")
    rec = FunAsrRecogniser({"zh": ModelSpec("zh", folder, "paraformer")}, importer=broken)
    assert "torch does not import" in rec.unavailable("zh")
    empty = FunAsrRecogniser({"zh": ModelSpec("zh", tmp_path / "nothing", "unknown")}, importer=broken)
    assert "missing" in empty.unavailable("zh")


def test_config_builds_one_recogniser_per_bot_toml(tmp_path):
    make_model(tmp_path / "models" / "paraformer-zh", "SeacoParaformer")
    make_model(tmp_path / "models" / "sensevoice", "SenseVoiceSmall")
    toml = tmp_path / "bot.toml"
    toml.write_text('[asr]\nenabled = true\nmodel_dir = "models/paraformer-zh"\n'
                    '[asr.models]\nyue = "models/sensevoice"\n[asr.languages]\n"华南组" = "yue"\n', encoding="utf-8")
    config = load_config(toml)
    specs = model_specs(config)
    assert {k: v.kind for k, v in specs.items()} == {"zh": "seaco_paraformer", "yue": "sensevoice"}
    assert specs["zh"].path == tmp_path / "models" / "paraformer-zh"  # relative to bot.toml
    [rec] = build_recognisers(config)
    assert rec.name == "funasr"
    off = dataclasses.replace(config, asr=dataclasses.replace(config.asr, enabled=False))
    assert build_recognisers(off) == []


def test_doctor_names_the_model_to_download_for_each_missing_language(tmp_path):
    toml = tmp_path / "bot.toml"
    toml.write_text('[asr]\nenabled = true\nmodel_dir = "models/none"\n[asr.models]\nyue = "models/nothing"\n',
                    encoding="utf-8")
    fake = FakeFunasr()
    checks = check_asr(load_config(toml), ZH, fake.importer)
    texts = "\n".join(c.text for c in checks)
    assert "iic/speech_seaco_paraformer_large_asr_nat-zh-cn-16k-common-vocab8404-pytorch" in texts
    assert "iic/SenseVoiceSmall" in texts and str(tmp_path / "models" / "nothing") in texts
    unset = check_asr(load_config(_write(tmp_path, "[asr]\nenabled = true\n")), EN, fake.importer)
    assert any("no model is configured" in c.text and c.ok is False for c in unset)
    off = check_asr(load_config(_write(tmp_path, "")), EN, fake.importer)
    assert any("off ([asr] enabled = false)" in c.text and c.ok is None for c in off)


def _write(tmp_path, text):
    p = tmp_path / "other.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_language_and_hotwords_for_a_rep(config, store, tmp_path):
    from bot.org import Directory, load_org_section
    from store import customers

    cfg = dataclasses.replace(config, asr=dataclasses.replace(config.asr, languages={"华南组": "yue", "r1": "zh"}))
    load_org_section(store, cfg.org)
    customers.upsert(store, "c1", "领航自动化", owner_id="r1")
    service = VoiceService(cfg, recognisers=[])
    directory = Directory(store)
    assert service.language_for(directory, "r3") == "yue"  # 刘洋 is in 华南组
    assert service.language_for(directory, "r1") == "zh" and service.language_for(directory, "") == "zh"
    words = service.hotwords(store, "r1")
    assert "领航自动化" in words and "GW-300" in words and len(words) == len(set(words))
