"""Unknown keys in a TOML file: the line they stand on and the key that was meant.

``tomllib`` gives values, not positions, so a refusal finds the key's line again in the
text: ``creds.toml line 7: unknown key 'scope' in [[access_key]] (did you mean 'scopes'?)``.
The settings file and the credentials file refuse unknown keys this way; the files of
thresholds and of the call center's configuration read their values through
:class:`TableReader`, which refuses the same way. The module imports nothing of ccms, so
any part may use it (a refusal raises the error class its caller names).
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

_HEADER = re.compile(r"\s*\[\[?\s*([^\[\]]+?)\s*\]\]?\s*(#.*)?$")


def _names(key: str) -> tuple[str, ...]:
    return (key, f'"{key}"', f"'{key}'")


def key_line(text: str, key: str, table: str | None = None, occurrence: int = 0) -> int | None:
    """The 1-based line of ``key = ...`` (or of a ``[key]`` / ``[[key]]`` header).

    ``table`` names the section searched (``access_key`` for ``[[access_key]]``), the
    ``occurrence``-th one counted from 0; ``None`` searches the top level. ``None`` when
    the key is not found as written (an inline table, a dotted key).
    """
    spelled = _names(key)
    assign = re.compile(r"\s*(" + "|".join(map(re.escape, spelled)) + r")\s*=")
    inside = table is None
    seen = -1
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            name = header.group(1)
            if table is None and name in spelled:
                return number
            if table is not None and name == table:
                seen += 1
                inside = seen == occurrence
            else:
                inside = False
            continue
        if inside and assign.match(line):
            return number
    return None


def unknown_key(
    key: str,
    known: Collection[str],
    source: str,
    line: int | None = None,
    where: str = "",
    noun: str = "key",
) -> str:
    """One line naming the file, the line, the unknown key and the closest known one."""
    location = f"{source} line {line}" if line else source
    place = f" in {where}" if where else ""
    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}?" if close else "known: " + ", ".join(sorted(known))
    return f"{location}: unknown {noun} {key!r}{place} ({hint})"


def read_toml(path: str, what: str, error: type[Exception]) -> tuple[str, dict[str, Any]]:
    """The text of the TOML file at ``path`` and its values; ``error`` with one line when
    it cannot be read, is not UTF-8 or is not TOML (``what`` names the file: "the flags
    file")."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise error(f"{what} {path} is not UTF-8 text") from None
    return text, parse_toml(text, path, error)


def parse_toml(text: str, source: str, error: type[Exception]) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{source}: not valid TOML: {exc}") from None


class TableReader:
    """Reads the values of a TOML file's ``text`` and refuses, with ``error``, in one line
    naming the file (``source``), the line and the key: ``flags.toml line 2: rest_s must
    be an integer from 1 to 86400, got -5``. ``table`` and ``index`` name the
    ``[[table]]`` (its ``index``-th, from 0) a key is in; ``None``: the top level."""

    def __init__(self, text: str, source: str, error: type[Exception]) -> None:
        self.text = text
        self.source = source
        self.error = error

    def fail(self, key: str, message: str, table: str | None = None, index: int = 0) -> NoReturn:
        line = key_line(self.text, key, table, index) or (
            key_line(self.text, table, None) if table else None
        )
        where = f"{self.source} line {line}" if line else self.source
        raise self.error(f"{where}: {message}")

    def int_in(self, data: Mapping[str, Any], key: str, bounds: tuple[int, int],
               table: str | None = None, index: int = 0) -> int:  # fmt: skip
        value = data[key]
        lo, hi = bounds
        if type(value) is not int or not lo <= value <= hi:
            self.fail(key, f"{key} must be an integer from {lo} to {hi}, got {value!r}", table,
                      index)  # fmt: skip
        return int(value)

    def known(self, data: Mapping[str, Any], keys: Collection[str], table: str | None = None,
              index: int = 0) -> None:  # fmt: skip
        """Refuse a key of ``data`` not among ``keys``, naming the closest known one."""
        where = f"[[{table}]] #{index + 1}" if table else ""
        for key in data:
            if key not in keys:
                line = key_line(self.text, key, table, index)
                raise self.error(unknown_key(key, keys, self.source, line, where=where))

    def entries(
        self, data: Any, table: str, ids: Sequence[tuple[str, tuple[int, int]]]
    ) -> list[tuple[tuple[int, ...], int, dict[str, Any]]]:
        """The entries of ``[[table]]`` (``data``: its value, ``None`` when absent), each
        ``(ids, index, the rest of its keys)``: ``ids`` the values of the integer keys
        ``ids`` names (each required, within its range), no two entries with the same."""
        if data is None:
            return []
        if not isinstance(data, list):
            self.fail(table, f"write [[{table}]] (a list of tables), not [{table}]")
        found: dict[tuple[int, ...], tuple[int, dict[str, Any]]] = {}
        for index, entry in enumerate(data):
            if not isinstance(entry, dict):
                self.fail(table, f"[[{table}]] must hold tables")
            for name, _ in ids:
                if name not in entry:
                    self.fail(table, f"[[{table}]] #{index + 1} needs {name}", table, index)
            key = tuple(self.int_in(entry, n, r, table, index) for n, r in ids)
            if key in found:
                self.fail(ids[0][0], f"[[{table}]] {'/'.join(map(str, key))} is listed twice",
                          table, index)  # fmt: skip
            names = {name for name, _ in ids}
            found[key] = (index, {k: v for k, v in entry.items() if k not in names})
        return [(key, index, rest) for key, (index, rest) in found.items()]
