"""Unknown keys in a TOML file: the line they stand on and the key that was meant.

``tomllib`` gives values, not positions, so a refusal finds the key's line again in the
text: ``creds.toml line 7: unknown key 'scope' in [[access_key]] (did you mean 'scopes'?)``.
The settings file and the credentials file refuse unknown keys this way; the module
imports nothing of ccms, so any part may use it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection

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
