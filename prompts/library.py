"""What Python's own parsers say (tomllib, re) in the reader's locale.

Why: a mistake in bot.toml, a rule pack, a classifier pack or a planogram is reported as "file:line: what is wrong",
and the "what" often comes from tomllib or re ("Expected '=' after a key in a key/value pair (at line 3, column
5)"), which put an English sentence into a Chinese line. Their messages are a short, fixed list: each is matched
here and shown from prompts/locales/<locale>/lib_errors.toml with its position. A message not in the list is shown
as written with the en locale, and as a general "syntax error" otherwise.
"""

from __future__ import annotations

import errno
import re
import tomllib
from collections.abc import Callable
from typing import Any

# (pattern over the message without its position, key in lib_errors.toml); named groups become placeholders
_TOML = [
    (r"Cannot declare (?P<field>.+) twice", "toml_declared_twice"),
    (r"Cannot mutate immutable namespace (?P<field>.+)", "toml_immutable"),
    (r"Cannot overwrite a value", "toml_overwrite"),
    (r"Cannot redefine namespace (?P<field>.+)", "toml_redefine"),
    (r"Duplicate inline table key (?P<field>.+)", "toml_duplicate_key"),
    (r"Escaped character is not a Unicode scalar value", "toml_escape_scalar"),
    (r"Expected '=' after a key in a key/value pair", "toml_expected_equals"),
    (r"Expected '\]' at the end of a table declaration", "toml_expected_table_end"),
    (r"Expected '\]\]' at the end of an array declaration", "toml_expected_array_end"),
    (r"Expected (?P<what>.+)", "toml_expected"),
    (r"Found invalid character (?P<char>.+)", "toml_invalid_character"),
    (r"Illegal character (?P<char>.+)", "toml_illegal_character"),
    (r"Invalid date or datetime", "toml_bad_date"),
    (r"Invalid hex value", "toml_bad_hex"),
    (r"Invalid initial character for a key part", "toml_bad_key"),
    (r"Invalid statement", "toml_bad_statement"),
    (r"Invalid value", "toml_bad_value"),
    (r"Unclosed array", "toml_unclosed_array"),
    (r"Unclosed inline table", "toml_unclosed_table"),
    (r"Unescaped '\\' in a string", "toml_unescaped_backslash"),
    (r"Unterminated string", "toml_unterminated_string"),
]
_REGEX = [
    (r"missing \), unterminated subpattern", "regex_unterminated_group"),
    (r"unbalanced parenthesis", "regex_unbalanced"),
    (r"unterminated character set", "regex_unterminated_set"),
    (r"nothing to repeat", "regex_nothing_to_repeat"),
    (r"multiple repeat", "regex_multiple_repeat"),
    (r"bad escape (?P<what>.+)", "regex_bad_escape"),
    (r"bad character range (?P<what>.+)", "regex_bad_range"),
    (r"unknown extension (?P<what>.+)", "regex_unknown_extension"),
    (r"look-behind requires fixed-width pattern", "regex_lookbehind"),
    (r"(?:invalid group reference|unknown group name|missing group name|bad character in group name|"
     r"redefinition of group name|missing \)|missing >|missing :|missing group name).*", "regex_bad_group"),
    (r"min repeat greater than max repeat", "regex_repeat_order"),
    (r"the repetition number is too large", "regex_repeat_large"),
]
_TOML_WHERE = re.compile(r"^(?P<msg>.*?)\s*\(at (?:line (?P<line>\d+), column (?P<column>\d+)|end of document)\)$", re.S)


def _dotted(text: str) -> str:
    """tomllib names a key as a tuple, "('org', 'people')": the admin writes it org.people."""
    import ast

    try:
        parts = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
    return ".".join(map(str, parts)) if isinstance(parts, tuple) else str(parts)


def _lookup(message: str, table: list[tuple[str, str]]) -> tuple[str, dict[str, str]] | None:
    for pattern, key in table:
        m = re.fullmatch(pattern, message)
        if m:
            return key, {k: _dotted(v) if k == "field" else v for k, v in m.groupdict().items()}
    return None


def _unknown(message: str, t: Callable[..., str]) -> str:
    return message if t("lib_errors.keep_unknown") == "yes" else t("lib_errors.unknown")


def toml_message(message: str, t: Callable[..., str]) -> str:
    """A tomllib message without its "(at line …)" in t's locale."""
    found = _lookup(message, _TOML)
    return t(f"lib_errors.{found[0]}", **found[1]) if found else _unknown(message, t)


def toml_detail(exc: tomllib.TOMLDecodeError | str, t: Callable[..., str]) -> str:
    """A tomllib message in t's locale, position included ("第 3 行第 5 列：键后面缺少“=”")."""
    text = str(exc)
    where = _TOML_WHERE.match(text)
    what = toml_message(where.group("msg") if where else text, t)
    if where and where.group("line"):
        return t("lib_errors.at_line", line=where.group("line"), column=where.group("column"), what=what)
    if where:
        return t("lib_errors.at_end", what=what)
    return what


def regex_detail(exc: re.error | str, t: Callable[..., str]) -> str:
    """An re.error in t's locale, with the character position when re gives one."""
    message = exc.msg if isinstance(exc, re.error) else str(exc)
    found = _lookup(message, _REGEX)
    what = t(f"lib_errors.{found[0]}", **found[1]) if found else _unknown(message, t)
    pos = exc.pos if isinstance(exc, re.error) else None
    return t("lib_errors.at_position", pos=pos, what=what) if pos is not None else what


_ERRNO = {
    errno.ENOENT: "os_not_found", errno.EACCES: "os_no_permission", errno.EPERM: "os_no_permission",
    errno.EISDIR: "os_is_folder", errno.ENOTDIR: "os_not_folder", errno.ENOSPC: "os_disk_full",
    errno.EDQUOT: "os_disk_full", errno.EROFS: "os_read_only", errno.EEXIST: "os_exists",
    errno.ENAMETOOLONG: "os_name_too_long", errno.EMFILE: "os_too_many_files", errno.EIO: "os_io_error",
    errno.ENOTEMPTY: "os_not_empty", errno.EBUSY: "os_busy", errno.ELOOP: "os_link_loop", errno.EFBIG: "os_too_big",
}


def os_reason(exc: OSError, t: Callable[..., str]) -> str:
    """Why a file could not be read or written, in t's locale: the OS's own strerror is English ("No such file or
    directory") whatever the admin's language; the common causes are translated, the rest kept as the OS says."""
    key = _ERRNO.get(exc.errno) if isinstance(exc, OSError) else None
    return t(f"lib_errors.{key}") if key else (getattr(exc, "strerror", None) or str(exc))


def detail(value: Any, t: Callable[..., str]) -> str:
    """Any reason shown to an admin: a Keyed text (or an exception carrying one), a tomllib or re error, else str()."""
    from prompts import Keyed

    if isinstance(value, BaseException) and value.args and isinstance(value.args[0], Keyed):
        value = value.args[0]
    if isinstance(value, Keyed):
        return value.render(t)
    if isinstance(value, tomllib.TOMLDecodeError):
        return toml_detail(value, t)
    if isinstance(value, re.error):
        return regex_detail(value, t)
    if isinstance(value, OSError) and value.errno in _ERRNO:
        return os_reason(value, t)
    return str(value)
