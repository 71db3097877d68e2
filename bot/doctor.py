"""`salespulse doctor`: is this install ready? One line per check, with what to do when it is not.

Checks never raise: each turns whatever went wrong into its own line, so one broken piece (say, a torch that does
not import) never hides the others. Secrets are reported as set / unset only. A check is *required* when the bot
cannot do what bot.toml asks without it (the database, bundled ffmpeg and font, ASR once enabled, the archive SDK
once configured, an enabled platform's own self-check); optional pieces are reported as information.
"""

from __future__ import annotations

import ctypes
import dataclasses
import importlib
import importlib.metadata
import importlib.util
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot import __version__
from bot.clock import SystemClock
from bot.config import Config, load_config
from bot.errors import DatabaseError, SalesPulseError
from prompts import Prompts
from store import maintenance

Translate = Callable[..., str]
PLATFORMS = {"wecom": "WeCom 企业微信", "dingtalk": "DingTalk 钉钉", "feishu": "Feishu 飞书"}
# Non-secret fields an enabled platform cannot work without (secrets are found from the config metadata).
REQUIRED_IDS = {"wecom": ("corp_id", "agent_id"), "dingtalk": ("client_id",), "feishu": ("app_id",)}
REQUIRED_SECRETS = {"wecom": ("secret", "token", "encoding_aes_key"), "dingtalk": ("client_secret",),
                    "feishu": ("app_secret",)}
CJK_FONT = "NotoSansCJKsc-Regular.otf"


@dataclass(frozen=True)
class Check:
    ok: bool | None  # None = information, neither pass nor fail
    text: str
    required: bool = True

    @property
    def failed(self) -> bool:
        return self.required and self.ok is False


# ------------------------------------------------------------------ individual checks


def check_config(path: str | None, t: Translate, locale: str | None = None) -> tuple[Config | None, Check]:
    try:
        config = load_config(path, error_locale=locale)
    except SalesPulseError as exc:
        return None, Check(False, t("ops.config_failed", error=exc))
    if config.source.startswith("<"):
        return config, Check(True, t("ops.config_defaults"))
    return config, Check(True, t("ops.config_loaded", source=config.source))


def check_database(path: str, t: Translate, locale: str = "zh-CN") -> Check:
    """Open without creating or migrating anything; report schema and whether another process holds it locked."""
    from store.migrate import available

    p = Path(path)
    top = available()[-1][0]
    if not p.exists():
        return Check(True, t("ops.db_new", path=p, schema=top))
    try:
        conn = sqlite3.connect(f"file:{p}?mode=rw", uri=True, timeout=0.5)
        try:
            schema = maintenance.schema_version(conn)
            migrations = len(maintenance.applied_migrations(conn))
            maintenance.probe_write_lock(conn)  # a writer elsewhere holding the lock shows here
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        from store import open_store

        locked = "locked" in str(exc) or "busy" in str(exc)
        try:  # reuse the store's one-sentence explanations (its lock probe is the migration's write)
            open_store(p, run_migrations=locked, busy_timeout_ms=500).close()
            message = str(exc)
        except DatabaseError as err:
            message = err.in_locale(locale)
        except SalesPulseError as err:
            message = str(err)
        return Check(False, t("ops.db_failed", error=message))
    shown = str(schema) if schema == top else f"{schema} → {top}"
    return Check(True, t("ops.db_ok", path=p, schema=shown, migrations=migrations))


def check_ffmpeg(t: Translate, finder: Callable[[], str] | None = None) -> Check:
    try:
        if finder is None:
            import imageio_ffmpeg

            finder = imageio_ffmpeg.get_ffmpeg_exe
        exe = finder()
        if not exe or not Path(exe).is_file():
            raise FileNotFoundError(exe or "ffmpeg")
    except Exception as exc:  # any failure of the optional binary is reported, never raised
        return Check(False, t("ops.ffmpeg_missing", error=f"{type(exc).__name__}: {exc}"))
    return Check(True, t("ops.ffmpeg_ok", path=exe))


def find_cjk_font() -> Path:
    """The bundled Noto Sans CJK SC of mplfonts, found without importing matplotlib."""
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("mplfonts is not installed")
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "fonts" / CJK_FONT
        if path.is_file():
            return path
    raise FileNotFoundError(f"{CJK_FONT} is not in the mplfonts package")


def check_font(t: Translate, finder: Callable[[], Path] = find_cjk_font) -> Check:
    try:
        path = finder()
    except Exception as exc:  # reported, never raised
        return Check(False, t("ops.font_missing", error=f"{type(exc).__name__}: {exc}"))
    return Check(True, t("ops.font_ok", path=path))


def _importable(module: str, importer: Callable[[str], Any]) -> tuple[bool, str]:
    """(ok, version or error) — a module that is installed but fails to import counts as missing. Not installed
    at all: (False, "") — the caller says so in the admin's language rather than Python's English."""
    try:
        importer(module)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            return False, ""
        return False, f"{type(exc).__name__}: {exc}"
    except Exception as exc:  # e.g. a torch built for another CPU: report it, do not crash doctor
        return False, f"{type(exc).__name__}: {exc}"
    try:
        return True, importlib.metadata.version(module)
    except importlib.metadata.PackageNotFoundError:
        return True, "?"


# What to download for each language: the FunASR model and its ModelScope id (doctor names them; nothing downloads)
ASR_MODELS = {
    "zh": ("SeACo Paraformer", "iic/speech_seaco_paraformer_large_asr_nat-zh-cn-16k-common-vocab8404-pytorch"),
    "default": ("SenseVoiceSmall", "iic/SenseVoiceSmall"),
}


def check_asr(config: Config, t: Translate, importer: Callable[[str], Any] = importlib.import_module) -> list[Check]:
    """Voice notes: SILK decoding, then (when [asr] enabled) funasr, torch, a model folder per language, device."""
    from handlers.voice.audio import silk_available
    from handlers.voice.recognisers import model_ready
    from handlers.voice.service import model_specs, resolve_dir

    asr = config.asr
    out: list[Check] = [Check(True, t("ops.silk_ok")) if silk_available()
                        else Check(None, t("ops.silk_missing"), required=False)]
    if not asr.enabled:
        out.append(Check(None, t("ops.asr_disabled"), required=False))
        return out
    for module, ok_key, missing_key in (("funasr", "ops.asr_funasr_ok", "ops.asr_funasr_missing"),
                                        ("torch", "ops.asr_torch_ok", "ops.asr_torch_missing")):
        ok, detail = _importable(module, importer)
        out.append(Check(True, t(ok_key, version=detail)) if ok
                   else Check(False, t(missing_key, error=detail or t("ops.asr_not_installed"))))
    specs = model_specs(config)
    if not specs:
        name, repo = ASR_MODELS["zh"]
        out.append(Check(False, t("ops.asr_model_unset", model=name, repo=repo)))
    for language, spec in specs.items():
        name, repo = ASR_MODELS.get(language, ASR_MODELS["default"])
        if model_ready(spec.path):
            out.append(Check(True, t("ops.asr_model_ok", path=spec.path, language=language, kind=spec.kind)))
        else:
            out.append(Check(False, t("ops.asr_model_missing", path=spec.path, language=language, model=name,
                                      repo=repo)))
    wanted = {asr.language, *asr.languages.values()}
    for language in sorted(wanted - specs.keys()) if specs else ():
        if "auto" not in specs:
            out.append(Check(None, t("ops.asr_language_no_model", language=language), required=False))
    for key, folder in (("vad", asr.vad_model_dir), ("punc", asr.punc_model_dir)):
        if folder:
            path = resolve_dir(folder, config)
            ready = path.is_dir() and any(path.iterdir())
            out.append(Check(True, t(f"ops.asr_{key}_ok", path=path)) if ready
                       else Check(False, t(f"ops.asr_{key}_missing", path=path)))
    if not re.fullmatch(r"cpu|cuda(:\d+)?", asr.device):
        out.append(Check(False, t("ops.asr_device", device=asr.device)))
    return out


def check_archive_sdk(config: Config, t: Translate, loader: Callable[[str], Any] = ctypes.CDLL) -> Check:
    path = config.wecom.archive_sdk_path
    if not path:
        return Check(None, t("ops.sdk_unset"), required=False)
    if not Path(path).is_file():
        return Check(False, t("ops.sdk_missing", path=path))
    try:
        loader(path)
    except OSError as exc:
        return Check(False, t("ops.sdk_unloadable", path=path, error=exc))
    return Check(True, t("ops.sdk_ok", path=path))


def _secret_env(section: Any) -> dict[str, str]:
    return {f.name: f.metadata["env"] for f in dataclasses.fields(section) if f.metadata.get("secret")}


def generic_platform_checks(name: str, section: Any, t: Translate) -> list[Check]:
    """Which credentials are set, by name only; what is missing and where to put it."""
    label = PLATFORMS.get(name, name)
    envs = _secret_env(section)
    out: list[Check] = []
    for key in (*REQUIRED_IDS.get(name, ()), *envs):
        state = t("ops.state_set") if getattr(section, key) else t("ops.state_unset")
        out.append(Check(None, t("ops.platform_credential", platform=label, name=key, state=state), required=False))
    needed = (*REQUIRED_IDS.get(name, ()), *REQUIRED_SECRETS.get(name, ()))
    missing = [k for k in needed if not getattr(section, k)]
    if missing:
        env_names = ", ".join(envs[k] for k in missing if k in envs) or "—"
        out.append(Check(False, t("ops.platform_missing", platform=label, keys=", ".join(missing), section=name,
                                  envs=env_names)))
    else:
        out.append(Check(True, t("ops.platform_ready", platform=label, keys=", ".join(needed))))
    return out


def adapter_checks(name: str, config: Config, t: Translate, store: Any) -> list[Check] | None:
    """The adapter's own doctor() when bot.app.ADAPTERS lists it; None when there is no adapter to ask."""
    from adapters.base import AdapterContext
    from bot.app import ADAPTERS

    spec = ADAPTERS.get(name)
    if spec is None:
        return None
    label = PLATFORMS.get(name, name)
    try:
        module_name, _, cls_name = spec.partition(":")
        cls = getattr(importlib.import_module(module_name), cls_name)
        adapter = cls(AdapterContext(store, config, SystemClock(), lambda: None))
        rows = adapter.doctor()
    except Exception as exc:  # an adapter's broken self-check is itself a finding
        return [Check(False, t("ops.platform_check_failed", platform=label, error=f"{type(exc).__name__}: {exc}"))]
    return [Check(bool(ok), t("ops.doctor_row", check=check, detail=detail)) for check, ok, detail in rows]


def check_platforms(config: Config, t: Translate, store: Any) -> list[Check]:
    from bot.app import ADAPTERS

    out: list[Check] = []
    enabled = [name for name in PLATFORMS if getattr(config, name).enabled]
    for name in PLATFORMS:
        section = getattr(config, name)
        label = PLATFORMS[name]
        if not section.enabled:
            out.append(Check(None, t("ops.platform_disabled", platform=label, section=name), required=False))
            continue
        out.append(Check(None, t("ops.platform_enabled", platform=label), required=False))
        generic = generic_platform_checks(name, section, t)
        own = adapter_checks(name, config, t, store) if store is not None else None
        if own is None:
            out.extend(generic)
        else:
            out.extend(c for c in generic if c.ok is None)  # the set/unset listing, then the adapter's verdict
            out.extend(own)
    if not enabled:
        out.append(Check(None, t("ops.none_enabled"), required=False))
    for name in ADAPTERS:  # other edges with a bot.toml section (telephony webhook, tracked links …)
        if name in PLATFORMS:
            continue
        section = getattr(config, name, None)
        if section is not None and getattr(section, "enabled", False) and store is not None:
            # optional edges: their findings are advice, they do not stop the bot from serving chat
            out.extend(dataclasses.replace(c, required=False) for c in adapter_checks(name, config, t, store) or [])
    return out


def check_pending_work(store: Any, db_path: str, t: Translate) -> list[Check]:
    """Work a crash or a killed job left unfinished: inbox rows pending or failed, replies queued or dead, and a
    restore that never finished (bot/backup.py restore_marker)."""
    from bot.backup import restore_marker
    from store import inbox as inbox_store
    from store import outbox as outbox_store

    out: list[Check] = []
    marker = restore_marker(db_path)
    if marker.is_file():
        lines = marker.read_text(encoding="utf-8", errors="replace").splitlines()
        out.append(Check(False, t("ops.doctor_restore_interrupted", archive=lines[1] if len(lines) > 1 else "?")))
    inbox, outbox = inbox_store.counts(store), outbox_store.counts(store)
    items = [t(f"ops.doctor_pending_{key}", n=n) for key, n in (
        ("inbox", inbox.get("pending", 0)), ("failed", inbox.get("failed", 0)),
        ("outbox", outbox.get("pending", 0)), ("dead", outbox.get("dead", 0))) if n]
    out.append(Check(None, t("ops.doctor_pending", items=t("core.list_sep").join(items)), required=False) if items
               else Check(True, t("ops.doctor_pending_ok")))
    return out


# ------------------------------------------------------------------ all of it


def run_checks(config_path: str | None, db_override: str | None = None, *, locale: str | None = None,
               ffmpeg_finder: Callable[[], str] | None = None, font_finder: Callable[[], Path] = find_cjk_font,
               importer: Callable[[str], Any] = importlib.import_module,
               sdk_loader: Callable[[str], Any] = ctypes.CDLL) -> tuple[list[Check], Translate]:
    t = Prompts(locale or "zh-CN").t
    config, first = check_config(config_path, t, locale)
    if config is not None and locale is None:
        locale = config.bot.locale
        t = Prompts(locale).t
        first = check_config(config_path, t)[1]
    checks = [first]
    store = None
    if config is not None:
        db_path = db_override or config.bot.database
        db_check = check_database(db_path, t, locale or "zh-CN")
        checks.append(db_check)
        if db_check.ok and Path(db_path).exists():
            from store import open_store

            try:
                store = open_store(db_path, run_migrations=False, busy_timeout_ms=500)
            except SalesPulseError:
                store = None
            if store is not None:
                try:
                    checks.extend(check_pending_work(store, db_path, t))
                except sqlite3.Error:  # an old schema without these tables: the database check already says so
                    pass
    checks.append(check_ffmpeg(t, ffmpeg_finder))
    checks.append(check_font(t, font_finder))
    if config is not None:
        checks.extend(check_asr(config, t, importer))
        checks.append(check_archive_sdk(config, t, sdk_loader))
        if store is None:
            from store import open_store

            store = open_store(":memory:")  # adapters' self-checks may read state; an empty store will do
        try:
            checks.extend(check_platforms(config, t, store))
        finally:
            store.close()
    return checks, t


def render(checks: list[Check], t: Translate) -> tuple[list[str], int]:
    """The printed lines and the exit code (0 when every required check passed)."""
    marks = {True: t("ops.doctor_ok"), False: t("ops.doctor_bad"), None: t("ops.doctor_warn")}
    lines = [t("ops.doctor_title", version=__version__)]
    for c in checks:
        mark = t("ops.doctor_advice") if c.ok is False and not c.required else marks[c.ok]
        lines.append(f"{mark} {c.text}")
    failed = sum(1 for c in checks if c.failed)
    lines.append(t("ops.doctor_summary_ok") if not failed else t("ops.doctor_summary_bad", n=failed))
    return lines, 0 if not failed else 1
