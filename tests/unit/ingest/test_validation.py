"""Intake validation of text fields: no control characters (PostgreSQL cannot store NUL)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccms.errors import InvalidParameterError
from ccms.ingest.validation import parse_batch, parse_event

pytestmark = pytest.mark.unit

BASE: dict[str, Any] = {"eventId": "e1", "ccId": 1, "vdn": 1, "agentId": 101, "at": 1_000}


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"eventId": "e\x001"}, "events[0].eventId"),
        ({"name": "Ann\x00"}, "events[0].name"),
        ({"name": "Ann\nBob"}, "events[0].name"),
        ({"name": "\tAnn"}, "events[0].name"),
        ({"phoneNumber": "555\x001"}, "events[0].phoneNumber"),
        ({"phoneNumber": "\x1f"}, "events[0].phoneNumber"),
        ({"calls": ["c1", "c\x002"]}, "events[0].calls[1]"),
        ({"eventId": "\r"}, "events[0].eventId"),
        ({"source": "asterisk\nami"}, "events[0].source"),
        ({"rawState": "sales: Status=6\tInCall=0"}, "events[0].rawState"),
    ],
)
def test_control_characters_are_refused_naming_the_field(
    fields: dict[str, Any], named: str
) -> None:
    with pytest.raises(InvalidParameterError) as info:
        parse_event({**BASE, **fields}, 0, large_work_numbers=False)
    assert info.value.result_code == "0100002"
    assert info.value.message == (f"{named} must not contain control characters (U+0000 to U+001F)")


def test_the_batch_names_the_event() -> None:
    events = [BASE, {**BASE, "eventId": "e2", "name": "x\x00"}]
    with pytest.raises(InvalidParameterError, match=r"^events\[1\]\.name must not contain"):
        parse_batch({"events": events}, 10, large_work_numbers=False)


@pytest.mark.parametrize(
    "text",
    ["Ann-Marie O'Neil", "Zoë Ångström", "王小明", "+1 (555) 010-9999", "\u00a0 \u2028", "\x7f"],
)
def test_other_text_is_kept_as_sent(text: str) -> None:
    event = parse_event({**BASE, "name": text, "calls": [text[:32]]}, 0, False)
    assert event.name == text
    assert event.calls == (text[:32],)


@given(st.text(max_size=40))
def test_any_name_is_either_kept_or_refused_for_a_control_character(name: str) -> None:
    event = {**BASE, "name": name}
    if any(ord(c) < 0x20 for c in name):
        with pytest.raises(InvalidParameterError, match="must not contain control characters"):
            parse_event(event, 0, False)
    else:
        assert parse_event(event, 0, False).name == name


def test_source_and_raw_state_are_optional_and_kept_on_the_event() -> None:
    plain = parse_event(BASE, 0, False)
    assert (plain.source, plain.raw_state) == (None, None)
    said = parse_event({**BASE, "source": "asterisk-ami", "rawState": "sales: Status=6"}, 0, False)
    assert (said.source, said.raw_state) == ("asterisk-ami", "sales: Status=6")
    assert parse_event({**BASE, "rawState": ""}, 0, False).raw_state == ""


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"source": ""}, "events[0].source must be a string of 1 to 64 characters"),
        ({"source": "s" * 65}, "events[0].source must be a string of 1 to 64 characters"),
        ({"source": 7}, "events[0].source must be a string of 1 to 64 characters"),
        ({"rawState": "r" * 513}, "events[0].rawState must be a string of 0 to 512 characters"),
        ({"rawState": None}, "events[0].rawState must be a string of 0 to 512 characters"),
    ],
)
def test_source_and_raw_state_are_bounded_strings(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        parse_event({**BASE, **fields}, 0, large_work_numbers=False)
    assert info.value.message == message
