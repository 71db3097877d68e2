"""`salespulse transcribe FILE`: the voice-note pipeline on a file, for admins checking audio and a model.

Same steps as a note from chat (handlers/voice: decode with the bundled ffmpeg → voice activity → the recognisers
in `[asr] order`), with the same limits. `--bench` times recognition and reports the real-time factor (seconds
of computing per second of audio; below 1 is faster than real time) after loading the model once — which needs a
configured model: without one it says what is missing, as `salespulse doctor` does.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from bot.cli.support import config_from
from bot.errors import UserInputError
from prompts import Prompts, render


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("transcribe", help="run the voice-note pipeline on an audio file (decode, voice activity, "
                                          "speech recognition); --bench reports the real-time factor",
                       description="Decode an audio file (AMR, Ogg/Opus, WAV, MP3, SILK …) with the bundled ffmpeg, "
                                   "detect speech and pauses, and recognise it with the recognisers in [asr] order.")
    p.add_argument("file", help="audio file")
    p.add_argument("--language", default=None, help="language code (default: [asr] language), e.g. zh, yue, auto")
    p.add_argument("--limit", type=float, default=None,
                   help="longest note accepted, in seconds (default: [asr] max_single_note_s)")
    p.add_argument("--bench", action="store_true", help="time recognition and report the real-time factor")
    p.add_argument("--runs", type=int, default=3, help="recognition runs timed by --bench (after one warm-up)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=cmd_transcribe)


def cmd_transcribe(args: argparse.Namespace) -> int:
    from handlers.voice import analysis
    from handlers.voice.service import VoiceService

    config = config_from(args)
    t = Prompts(config.bot.locale).t
    if args.runs < 1:
        raise UserInputError(t("voice.cli_bad_runs", runs=args.runs))
    data = Path(args.file).read_bytes()
    service = VoiceService(config)
    language = args.language or config.asr.language
    limit = args.limit if args.limit is not None else config.asr.max_single_note_s
    hotwords = service.hotwords_static()
    result: dict = {"file": str(args.file)}
    if args.bench and not service.pipeline.can_recognise(language):
        print(t("voice.cli_no_model", language=language, reasons="；".join(render(r, t) for r in service.why_not(language))))
        return 1
    load_s = None
    if args.bench:  # warm-up: the first call loads the model
        t0 = time.perf_counter()
        service.pipeline.run(data, language=language, hotwords=hotwords, max_seconds=limit)
        load_s = time.perf_counter() - t0
    outcome = service.pipeline.run(data, language=language, hotwords=hotwords, max_seconds=limit)
    result.update(status=outcome.status, text=outcome.text, source=outcome.source, language=outcome.language,
                  duration_ms=outcome.duration_ms, speech_ms=outcome.speech_ms, pauses_ms=list(outcome.pauses_ms),
                  chars_per_minute=analysis.speaking_rate(outcome.text, outcome.speech_ms),
                  fillers=analysis.filler_words(outcome.text),
                  timings_ms={k: round(v, 1) for k, v in outcome.timings_ms.items()}, detail=outcome.detail)
    if args.bench and outcome.status == "ok" and outcome.duration_ms > 0:
        asr_ms = [outcome.timings_ms.get("asr", 0.0)]
        for _ in range(args.runs - 1):
            again = service.pipeline.run(data, language=language, hotwords=hotwords, max_seconds=limit)
            asr_ms.append(again.timings_ms.get("asr", 0.0))
        result.update(real_time_factor=round(statistics.median(asr_ms) / outcome.duration_ms, 3),
                      asr_ms_p50=round(statistics.median(asr_ms), 1), runs=len(asr_ms),
                      first_call_s=round(load_s or 0.0, 2))
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0 if outcome.status == "ok" else 1
    print(t("voice.cli_result", status=t(f"voice.status_{outcome.status}"), seconds=f"{outcome.duration_ms / 1000:.1f}",
            speech=f"{outcome.speech_ms / 1000:.1f}", pauses=len(outcome.pauses_ms)))
    if outcome.text:
        print(t("voice.cli_text", text=outcome.text, source=outcome.source, rate=result["chars_per_minute"]))
    elif outcome.status == "no_recogniser":
        print(t("voice.cli_no_model", language=language, reasons="；".join(render(r, t) for r in service.why_not(language))))
    if "real_time_factor" in result:
        print(t("voice.cli_bench", rtf=result["real_time_factor"], asr_ms=result["asr_ms_p50"], runs=result["runs"],
                first=result["first_call_s"]))
    return 0 if outcome.status == "ok" else 1
