"""The --speed type that ccms simulate and ccms adapter ami share."""

from __future__ import annotations

import argparse

import pytest

from ccms.cli.command import speed

pytestmark = pytest.mark.unit


def test_a_speed_is_a_positive_number_or_max() -> None:
    parse = speed("real time")
    assert parse("60") == 60.0
    assert parse("0.5") == 0.5
    assert parse("max") is None


@pytest.mark.parametrize(("text", "message"), [
    ("0", "speed must be positive"),
    ("-2", "speed must be positive"),
    ("fast", "speed is a number (1 = as recorded) or max"),
])  # fmt: skip
def test_a_bad_speed_says_what_a_speed_is(text: str, message: str) -> None:
    with pytest.raises(
        argparse.ArgumentTypeError, match=rf"^{message.replace('(', '[(]').replace(')', '[)]')}$"
    ):
        speed("as recorded")(text)
