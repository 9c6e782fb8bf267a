"""Finding a key's line in a TOML text, and the message for an unknown key."""

from __future__ import annotations

import pytest

from ccms.tomlkeys import key_line, unknown_key

pytestmark = pytest.mark.unit

TEXT = """\
port = 1  # top level
"quoted" = 2

[[access_key]]
ak = "a"
scope = ["1/1"]

[other]
scope = 3

[[access_key]]
ak = "b"
  'scope' = ["2/2"]
"""


@pytest.mark.parametrize(
    ("key", "table", "occurrence", "line"),
    [
        ("port", None, 0, 1),
        ("quoted", None, 0, 2),
        ("access_key", None, 0, 4),
        ("scope", "access_key", 0, 6),
        ("scope", "other", 0, 9),
        ("scope", "access_key", 1, 13),
        ("ak", "access_key", 1, 12),
        ("scope", None, 0, None),  # not at the top level
        ("missing", "access_key", 0, None),
        ("scope", "access_key", 2, None),
    ],
)
def test_key_line(key: str, table: str | None, occurrence: int, line: int | None) -> None:
    assert key_line(TEXT, key, table, occurrence) == line


def test_unknown_key_suggests_the_closest_known_key() -> None:
    assert unknown_key("scope", ["ak", "scopes"], "f.toml", 6, "[[access_key]]") == (
        "f.toml line 6: unknown key 'scope' in [[access_key]] (did you mean 'scopes'?)"
    )
    assert unknown_key("prot", ["port", "host"], "c.toml", None, noun="setting") == (
        "c.toml: unknown setting 'prot' (did you mean 'port'?)"
    )
    assert (
        unknown_key("zzz", ["b", "a"], "f.toml", 2)
        == "f.toml line 2: unknown key 'zzz' (known: a, b)"
    )
