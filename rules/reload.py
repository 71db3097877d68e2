"""Hot reload: rule packs are re-read when their files change; a broken edit never replaces the last good set.

`RuleSet.maybe_reload(now_ms)` is called by the tagging handler on every event and costs one integer comparison
until `check_interval_ms` has passed; then it stats the pack files (a few syscalls) and only re-reads when an
mtime or size changed. If the new files do not load, the previous engine stays in use and the errors are handed
back once per broken version, so the admins are told exactly once which line is wrong.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from rules.engine import Engine
from rules.loader import load_texts, read_texts
from rules.model import RuleError, RulePackErrors


def default_pack_path() -> Path:
    return Path(str(resources.files("rules").joinpath("packs", "default.toml")))


def pack_files(dirs: tuple[str, ...] | list[str], extra: tuple[str, ...] | list[str], use_default: bool = True,
               base: Path | None = None) -> list[Path]:
    """The pack files in load order: the built-in default, every *.toml of each dir (sorted), then extra files."""
    out: list[Path] = [default_pack_path()] if use_default else []
    for d in dirs:
        p = Path(d) if base is None or Path(d).is_absolute() else base / d
        if p.is_dir():
            out.extend(sorted(p.glob("*.toml")))
    for f in extra:
        out.append(Path(f) if base is None or Path(f).is_absolute() else base / f)
    seen: dict[Path, None] = {}
    for p in out:
        seen.setdefault(p.resolve() if p.exists() else p, None)
    return list(seen)


def file_signature(paths: list[Path]) -> tuple:
    """(path, mtime, size) per file: changes when any file is edited, added or removed."""
    sig = []
    for p in paths:
        try:
            st = p.stat()
            sig.append((str(p), st.st_mtime_ns, st.st_size))
        except OSError:
            sig.append((str(p), None, None))
    return tuple(sig)


def _digest(sig: tuple) -> str:
    return hashlib.sha1(repr(sig).encode()).hexdigest()[:12]


@dataclass
class ReloadResult:
    changed: bool
    errors: list[RuleError] = field(default_factory=list)
    signature: str = ""


class RuleSet:
    """The live engine plus what it needs to notice edits. `engine` is always a good, compiled rule set."""

    def __init__(self, files_fn, catalogs: dict[str, dict[str, tuple[str, ...]]] | None = None, *,
                 check_interval_ms: int = 5000, text_max_chars: int = 4000, regex_max_chars: int = 2000) -> None:
        self._files_fn = files_fn  # re-evaluated on each check so a new file in a packs dir is picked up
        self._catalogs = catalogs or {}
        self.check_interval_ms = check_interval_ms
        self._limits = {"text_max_chars": text_max_chars, "regex_max_chars": regex_max_chars}
        self._last_check: int | None = None
        self._sig: tuple = ()
        self.engine = Engine([], self._catalogs, **self._limits)
        self.errors: list[RuleError] = []
        self.generation = 0
        self.good_texts: list[tuple[str, str]] = []  # (file name, text) of the packs behind `engine`

    def load(self) -> ReloadResult:
        """Read the packs now. On errors keep the current engine and return them."""
        paths = list(self._files_fn())
        sig = file_signature(paths)
        self._sig = sig
        named, read_errors = read_texts(paths)
        try:
            rules, catalogs = load_texts(named, self._catalogs, read_errors)
        except RulePackErrors as exc:
            self.errors = exc.errors
            return ReloadResult(False, exc.errors, _digest(sig))
        self.engine = Engine(rules, catalogs, **self._limits)
        self.good_texts = named
        self.errors = []
        self.generation += 1
        return ReloadResult(True, [], _digest(sig))

    def load_texts(self, texts: list[tuple[str, str]]) -> bool:
        """Make the engine from pack texts saved earlier (`good_texts` of a previous run); False when they do not load
        (then nothing changes). Why: a pack broken while the bot was down must not silently cost the company its own
        rules at the next start; the last good version is kept in the database and used until the files are fixed."""
        try:
            rules, catalogs = load_texts(texts, self._catalogs)
        except RulePackErrors:
            return False
        self.engine = Engine(rules, catalogs, **self._limits)
        self.good_texts = list(texts)
        return True

    def maybe_reload(self, now_ms: int) -> ReloadResult | None:
        """Cheap unless the interval passed and a file changed; None when nothing was (re)loaded."""
        last = self._last_check
        if last is not None and now_ms - last < self.check_interval_ms:
            return None
        self._last_check = now_ms
        if last is None and self.generation == 0 and not self.errors:
            return self.load()
        if file_signature(list(self._files_fn())) == self._sig:
            return None
        return self.load()
