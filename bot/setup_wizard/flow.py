"""The wizard's question loop: ask (or take from flags) → check against the platform → write bot.toml → database
→ org import → what is left in the console.

Two ways through the same steps. Interactive: a wrong answer gets one sentence and the question again; a refusal
by the platform asks again only the fields it blames (a wrong Secret re-asks the Secret). `--yes`: every answer
comes from the flags (or the secrets' environment variables); the first wrong or missing one ends the run with
exit code 2 before anything is written. Secrets are read without echo on a terminal and never printed.

Exit codes: 0 done; 1 written but something is left on the platform's side (org not imported, check skipped on
request) or the admin declined to overwrite; 2 wrong input (nothing written).
"""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from bot.clock import Clock, SystemClock
from bot.config import Config
from bot.setup_wizard import bottoml
from bot.setup_wizard.checks import Problem, Target, check
from bot.setup_wizard.org_import import Imported, import_org
from bot.setup_wizard.platforms import PLATFORMS, SPECS, Field, is_local, public_url
from bot.setup_wizard.steps import todo
from prompts import Prompts
from store import open_store

LOCALES = ("zh-CN", "en")
DEFAULT_API = {"wecom": "https://qyapi.weixin.qq.com", "dingtalk": "https://api.dingtalk.com",
               "feishu": "https://open.feishu.cn"}


@dataclass
class Answers:
    """What is known before any question: from flags (and the secrets' environment variables)."""

    platforms: list[str] = field(default_factory=list)
    modes: dict[str, str] = field(default_factory=dict)  # platform → mode
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # platform → bot.toml key → typed text
    public_url: str = ""
    api_bases: dict[str, str] = field(default_factory=dict)  # platform → API base (tests, private deployments)
    out: Path = Path("bot.toml")
    database: str = "salespulse.db"
    locale: str = "zh-CN"
    force: bool = False
    check: bool = True
    admin: str = ""  # name or platform account of the first admin, looked up after the org import
    bad_platform: str = ""  # a --platform word that was not understood (reported like any wrong answer)


class Stop(Exception):
    """End the run with this exit code; the reason has been said already."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class Wizard:
    def __init__(self, answers: Answers, *, interactive: bool, inp: TextIO, out: TextIO,
                 clock: Clock | None = None, read_secret: Callable[[str], str | None] | None = None,
                 timeout_s: float = 10.0, flag_of: Callable[[str, str], str] | None = None) -> None:
        self.a = answers
        self.interactive = interactive
        self.inp, self.out = inp, out
        self.clock = clock or SystemClock()
        self.t = Prompts(answers.locale if answers.locale in LOCALES else "zh-CN").t
        self.raw = Prompts(answers.locale if answers.locale in LOCALES else "zh-CN").raw
        self._read_secret = read_secret
        self.timeout_s = timeout_s
        self.flag_of = flag_of or (lambda platform, key: "--" + key.replace("_", "-"))
        self.unchecked: set[str] = set()

    # ------------------------------------------------------------------ io
    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def _readline(self, prompt: str, secret: bool) -> str:
        if secret and self._read_secret is not None:
            text = self._read_secret(prompt)
        elif secret and self.inp is sys.stdin and sys.stdin.isatty():
            text = getpass.getpass(prompt)
        else:
            self.out.write(prompt)
            self.out.flush()
            text = self.inp.readline()
            text = text if text else None
        if text is None:
            self.say()
            self.say(self.t("setup.eof"))
            raise Stop(2)
        return text.strip()

    def ask(self, question: str, validate: Callable[[str], str | None], *, default: str = "",
            secret: bool = False, **reason_values: Any) -> str:
        """Ask until the answer passes `validate`; each wrong answer gets its one sentence (`reason_values` fill
        its placeholders)."""
        hint = self.t("setup.default", value=default) if default else ""
        hidden = self.t("setup.secret_hidden") if secret else ""
        while True:
            text = self._readline(question + hint + hidden + self.t("setup.ask_end"), secret) or default
            problem = validate(text)
            if problem is None:
                return text
            self.say(self.t(problem, **reason_values))

    def confirm(self, question: str, default: bool) -> bool:
        yes = {w.lower() for w in self.raw("setup.yes_words")}
        no = {w.lower() for w in self.raw("setup.no_words")}
        while True:
            hint = self.t("setup.default", value=self.raw("setup.yes_words" if default else "setup.no_words")[0])
            text = self._readline(question + self.t("setup.yes_no") + hint + self.t("setup.ask_end"), False).lower()
            if not text:
                return default
            if text in yes:
                return True
            if text in no:
                return False
            self.say(self.t("setup.answer_yes_no"))

    def refuse(self, flag: str, reason_key: str, **values: Any) -> None:
        """--yes: one sentence naming the flag, exit code 2."""
        self.say(self.t("setup.bad_flag", flag=flag, reason=self.t(reason_key, **values)))
        raise Stop(2)

    # ------------------------------------------------------------------ steps
    def run(self) -> int:
        try:
            return self._run()
        except Stop as stop:
            return stop.code

    def _run(self) -> int:
        if self.a.locale not in LOCALES:
            self.say(self.t("setup.bad_flag", flag="--locale", reason=self.t("setup.bad_locale")))
            return 2
        if self.interactive:
            self.say(self.t("setup.welcome"))
        if self.a.bad_platform:
            if not self.interactive:
                self.refuse("--platform", "setup.bad_platforms")
            self.say(self.t("setup.bad_platforms"))
        if not self.interactive:
            self._require_flags()
        self._check_out_path()
        platforms = self.a.platforms or self._ask_platforms()
        for platform in platforms:
            self._collect(platform)
        needs_url = any(SPECS[p].needs_public_url(self.a.modes[p]) for p in platforms)
        if needs_url:
            self._collect_public_url()
        if self.a.check:
            for platform in platforms:
                self._check(platform)
        config = self._write(platforms)
        store = self._database(config)
        code = 0 if not self.unchecked else 1
        imported = False
        try:
            for platform in platforms:
                if not self.a.check or platform in self.unchecked:
                    if not self.a.check:
                        self.say(self.t("setup.check_skipped", platform=self._name(platform)))
                    continue
                if self._import(platform, config, store):
                    imported = True
                else:
                    code = 1
            if imported:
                self._choose_admin(store)
            elif self.a.admin:
                self.say(self.t("setup.admin_later", who=self.a.admin))
        finally:
            store.close()
        for platform in platforms:
            self._console_todo(config, platform)
        self._next(config, needs_url)
        return code

    def _name(self, platform: str) -> str:
        return self.t(f"setup.name_{platform}")

    def _require_flags(self) -> None:
        """--yes: name every missing flag in one sentence."""
        missing: list[str] = []
        if not self.a.platforms:
            missing.append("--platform")
        for platform in self.a.platforms:
            spec = SPECS[platform]
            mode = self.a.modes.get(platform) or (spec.modes[0] if spec.modes else "")
            for f in spec.fields_for(mode):
                if not self.a.values.get(platform, {}).get(f.key):
                    flag = self.flag_of(platform, f.flag)
                    missing.append(self.t("setup.flag_or_env", flag=flag, env=f.env) if f.env else flag)
            if spec.needs_public_url(mode) and not self.a.public_url and "--public-url" not in missing:
                missing.append("--public-url")
        if missing:
            self.say(self.t("setup.missing_flags", flags=", ".join(missing)))
            raise Stop(2)

    def _check_out_path(self) -> None:
        out = self.a.out
        if not out.parent.is_dir():
            self.say(self.t("setup.out_folder_missing", folder=out.parent))
            raise Stop(2)
        if not out.exists() or self.a.force:
            return
        if not self.interactive:
            self.say(self.t("setup.exists", path=out))
            raise Stop(2)
        if not self.confirm(self.t("setup.q_overwrite", path=out), default=False):
            self.say(self.t("setup.kept", path=out))
            raise Stop(1)

    def _ask_platforms(self) -> list[str]:
        from bot.setup_wizard.platforms import parse_platforms

        text = self.ask(self.t("setup.q_platforms"),
                        lambda s: None if parse_platforms(s) else "setup.bad_platforms")
        chosen = parse_platforms(text) or []
        self.a.platforms = chosen
        return chosen

    def _collect(self, platform: str) -> None:
        spec = SPECS[platform]
        given = self.a.values.setdefault(platform, {})
        if self.interactive:
            self.say()
            self.say(self.t("setup.section", platform=self._name(platform)))
        if spec.modes:
            mode = self.a.modes.get(platform, "")
            if mode and mode not in spec.modes:
                if not self.interactive:
                    self.refuse("--" + spec.mode_flag, "setup.bad_mode", modes=" / ".join(spec.modes))
                self.say(self.t("setup.bad_mode", modes=" / ".join(spec.modes)))
                mode = ""
            if not mode:
                mode = spec.modes[0] if not self.interactive else self._ask_mode(platform)
            self.a.modes[platform] = mode
        else:
            self.a.modes[platform] = ""
        for f in spec.fields_for(self.a.modes[platform]):
            value = given.get(f.key, "")
            if value:
                problem = f.validate(value)
                if problem is None:
                    continue
                if not self.interactive:
                    self.refuse(self.flag_of(platform, f.flag), problem)
                self.say(self.t("setup.bad_flag", flag=self.flag_of(platform, f.flag), reason=self.t(problem)))
            given[f.key] = self._ask_field(platform, f)

    def _ask_mode(self, platform: str) -> str:
        spec = SPECS[platform]
        return self.ask(self.t(f"setup.mode_{platform}"), lambda s: None if s in spec.modes else "setup.bad_mode",
                        default=spec.modes[0], modes=" / ".join(spec.modes))

    def _ask_field(self, platform: str, f: Field) -> str:
        return self.ask(self.t(f"setup.f_{platform}_{f.key}"), f.validate, secret=f.secret)

    def _collect_public_url(self) -> None:
        url = self.a.public_url
        if url and public_url(url) is not None:
            if not self.interactive:
                self.refuse("--public-url", "setup.bad_url")
            self.say(self.t("setup.bad_flag", flag="--public-url", reason=self.t("setup.bad_url")))
            url = ""
        if not url:
            url = self.ask(self.t("setup.q_public_url"), public_url)
        self.a.public_url = url.rstrip("/")
        if is_local(url):
            self.say(self.t("setup.local_url", url=url))
        elif url.startswith("http://"):
            self.say(self.t("setup.http_url", url=url))

    # ------------------------------------------------------------------ platform check
    def _target(self, platform: str) -> Target:
        return Target(platform, self.a.api_bases.get(platform) or DEFAULT_API[platform], self.a.values[platform])

    def _explain(self, problem: Problem) -> str:
        return self.t(problem.key, code=problem.code or "?", detail=problem.detail or "?")

    def _check(self, platform: str) -> None:
        """Fetch a token until the platform accepts; re-ask only the fields it blames."""
        name = self._name(platform)
        spec = SPECS[platform]
        while True:
            self.say(self.t("setup.checking", platform=name))
            problem = asyncio.run(check(self._target(platform), self.timeout_s))
            if problem is None:
                self.say(self.t("setup.check_ok", platform=name))
                return
            self.say(self._explain(problem))
            if not self.interactive:
                raise Stop(2 if problem.fields else 1)
            if problem.fields:
                for f in spec.fields_for(self.a.modes[platform]):
                    if f.key in problem.fields:
                        self.a.values[platform][f.key] = self._ask_field(platform, f)
                continue
            if self.confirm(self.t("setup.q_retry"), default=True):
                continue
            if self.confirm(self.t("setup.q_skip_check"), default=False):
                self.unchecked.add(platform)
                self.say(self.t("setup.check_left", platform=name))
                return
            raise Stop(1)

    # ------------------------------------------------------------------ results
    def _bot_toml_values(self, platforms: list[str]) -> dict[str, dict[str, Any]]:
        values: dict[str, dict[str, Any]] = {"bot": {"locale": self.a.locale, "database": self.a.database}}
        if self.a.public_url:
            values["server"] = {"public_base_url": self.a.public_url}
        for platform in platforms:
            spec = SPECS[platform]
            section: dict[str, Any] = {"enabled": True}
            if spec.modes:
                section["mode"] = self.a.modes[platform]
            for f in spec.fields_for(self.a.modes[platform]):
                text = self.a.values[platform][f.key]
                section[f.key] = int(text) if f.integer else text
            base = self.a.api_bases.get(platform)
            if base:
                keys = {"wecom": ("api_base_url",), "dingtalk": ("api_base_url", "oapi_base_url"),
                        "feishu": ("domain",)}[platform]
                section.update({k: base.rstrip("/") for k in keys})
            values[platform] = section
        return values

    def _write(self, platforms: list[str]) -> Config:
        names = "、".join(self._name(p) for p in platforms) if self.a.locale != "en" else ", ".join(
            self._name(p) for p in platforms)
        text = bottoml.render(self._bot_toml_values(platforms), self.t("setup.org_note", platforms=names))
        config = bottoml.write(self.a.out, text)
        self.say(self.t("setup.written", path=self.a.out))
        return config

    def _database(self, config: Config):
        """Create the database, or migrate an existing one after a verified backup (as `serve` and `migrate` do)."""
        from bot.upgrade import backup_before_migrations

        _todo, backup = backup_before_migrations(config, self.clock, self.t)
        if backup is not None:
            self.say(self.t("operations.backup_before_migrate", n=len(_todo), path=backup.path))
        store = open_store(config.bot.database)
        self.say(self.t("setup.db_ready", path=config.bot.database))
        return store

    def _import(self, platform: str, config: Config, store) -> bool:
        name = self._name(platform)
        self.say(self.t("setup.importing", platform=name))
        result = asyncio.run(import_org(platform, config, store, self.clock))
        if isinstance(result, Imported):
            self.say(self.t("setup.imported", platform=name, teams=result.teams, added=result.added,
                            people=result.people))
            return True
        self.say(self.t("setup.import_failed", platform=name, reason=self._explain(result)))
        return False

    def _choose_admin(self, store) -> None:
        """The first admin (may import data, bind contacts, see everything in chat): one person of the imported
        org, by name or platform account. Interactive: optional (Enter skips); --yes: only with --admin."""
        from store import org as org_store

        def lookup(text: str) -> str | None:
            found = org_store.people_matching(store, text)
            if len(found) == 1:
                return None
            return "setup.admin_ambiguous" if found else "setup.admin_unknown"

        text = self.a.admin
        if text and lookup(text) is not None:
            reason = lookup(text) or ""
            if not self.interactive:
                self.say(self.t("setup.bad_flag", flag="--admin", reason=self.t(reason, who=text)))
                raise Stop(2)
            self.say(self.t(reason, who=text))
            text = ""
        if not text and self.interactive:
            self.say()
            while True:
                text = self._readline(self.t("setup.q_admin") + self.t("setup.ask_end"), False)
                reason = lookup(text) if text else None
                if reason is None:
                    break
                self.say(self.t(reason, who=text))
        if not text:
            return
        person = org_store.people_matching(store, text)[0]
        with store.transaction():
            org_store.set_admin(store, person.id)
        self.say(self.t("setup.admin_set", name=person.name, id=person.id))

    def _console_todo(self, config: Config, platform: str) -> None:
        item = todo(config, platform)
        self.say()
        self.say(self.t("setup.todo_title", platform=self._name(platform)))
        if item.callback_url:
            self.say(self.t("setup.callback_url", url=item.callback_url))
        else:
            self.say(self.t("setup.no_callback", mode=item.mode))
        for n, text in enumerate(self.raw(item.steps_key), 1):
            self.say(self.t("setup.step_line", n=n, text=text))

    def _next(self, config: Config, needs_url: bool) -> None:
        self.say()
        self.say(self.t("setup.next_title"))
        key = "setup.next_steps" if needs_url else "setup.next_steps_no_url"
        for n, line in enumerate(self.raw(key), 1):
            text = line.format(config=self.a.out, host=config.server.host, port=config.server.port,
                               public_url=config.server.public_base_url)
            self.say(self.t("setup.step_line", n=n, text=text))


__all__ = ["Answers", "PLATFORMS", "Stop", "Wizard"]
