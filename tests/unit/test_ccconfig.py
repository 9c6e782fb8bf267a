"""The configuration file (``cc_config_file``): what it may hold, the one line that refuses
anything else, and its reload."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from ccms.ccconfig import (
    DEFAULT_REASON_NAMES,
    CallCenterConfig,
    CcConfig,
    CcConfigError,
    ReasonNames,
    load_cc_config,
    parse_cc_config,
)
from ccms.cli.demo import cc_config_text
from ccms.domain.service import DEFAULT_SKILL_CONFIG, SkillConfig
from ccms.simulator.transitions import BusyReason, RestReason

pytestmark = pytest.mark.unit

FULL = """
max_call_num = 50
max_talk_time = 3600

[[skill]]
cc_id = 1
vdn = 2
skill = 7
max_wait_time = 120

[[skill]]
cc_id = 1
vdn = 2
skill = 8

[[access_code]]
cc_id = 1
vdn = 2
id = 3
code = "650550"
"""


def test_a_file_sets_every_queue_some_queues_and_access_codes() -> None:
    found = parse_cc_config(FULL, "cc.toml")
    top = SkillConfig(max_call_num=50, max_talk_time=3600)
    assert found.default == top
    assert found.skill(1, 2, 7) == top._replace(max_wait_time=120)
    assert found.skill(1, 2, 8) == top  # listed, with nothing of its own
    assert found.skill(1, 3, 7) == top  # another VDN's queue 7
    assert found.code(1, 2, 3) == "650550"
    assert found.code(1, 1, 3) == "3"  # not mapped: the id in decimal
    assert parse_cc_config("", "empty.toml") == CallCenterConfig()
    assert (
        CallCenterConfig().skill(1, 1, 1)
        == DEFAULT_SKILL_CONFIG
        == SkillConfig(100, 5, 60, 30, 86_400, 2, 5)
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("max_wait_time = -1",
         "cc.toml line 1: max_wait_time must be an integer from 0 to 2147483647, got -1"),
        ("max_wait_time = 2147483648", "cc.toml line 1: max_wait_time must be an integer from 0"),
        ("max_wait_time = '60'", "cc.toml line 1: max_wait_time must be an integer from 0"),
        ("max_wait_time = 1.5", "cc.toml line 1: max_wait_time must be an integer from 0"),
        ("max_wait_time = true", "cc.toml line 1: max_wait_time must be an integer from 0"),
        ("max_wait = 3",
         "cc.toml line 1: unknown key 'max_wait' (did you mean 'max_wait_time'?)"),
        ("[[skill]]\ncc_id = 1\nvdn = 1\nskill = 7\nmax_wait = 3",
         "cc.toml line 5: unknown key 'max_wait' in [[skill]] #1 (did you mean 'max_wait_time'?)"),
        ("[[skill]]\ncc_id = 1\nvdn = 1", "cc.toml line 1: [[skill]] #1 needs skill"),
        ("[[skill]]\ncc_id = 1\nvdn = 1\nskill = 10001",
         "cc.toml line 4: skill must be an integer from 1 to 10000, got 10001"),
        ("[[skill]]\ncc_id = 1\nvdn = 1\nskill = 7\n[[skill]]\ncc_id = 1\nvdn = 1\nskill = 7",
         "cc.toml line 6: [[skill]] 1/1/7 is listed twice"),
        ("[skill]\ncc_id = 1", "cc.toml line 1: write [[skill]] (a list of tables), not [skill]"),
        ("[[access_code]]\ncc_id = 1\nvdn = 1\nid = 1",
         "cc.toml line 1: [[access_code]] #1 needs code"),
        ("[[access_code]]\ncc_id = 1\nvdn = 1\nid = 1\ncode = 650550",
         "cc.toml line 5: code must be a string of 1 to 32 printable characters, got 650550"),
        ("[[access_code]]\ncc_id = 1\nvdn = 1\nid = 1\ncode = ''",
         "cc.toml line 5: code must be a string of 1 to 32 printable characters"),
        ("[[access_code]]\ncc_id = 1\nvdn = 1\nid = 0\ncode = '1'",
         "cc.toml line 4: id must be an integer from 1 to 65535, got 0"),
        ("[[access_code]]\ncc_id = 1\nvdn = 1\nid = 1\ncode = '1'\nskill = 3",
         "cc.toml line 6: unknown key 'skill' in [[access_code]] #1 (known: code)"),
        ("max_wait_time = ", "cc.toml: not valid TOML: "),
    ],
)  # fmt: skip
def test_anything_else_is_refused_with_one_line(text: str, message: str) -> None:
    assert_refused_in_one_line(text, message)


def assert_refused_in_one_line(text: str, message: str) -> None:
    with pytest.raises(CcConfigError) as caught:
        parse_cc_config(text, "cc.toml")
    assert str(caught.value).startswith(message), str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_file_that_cannot_be_read(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    with pytest.raises(CcConfigError, match=r"cannot read the configuration file .*nowhere\.toml"):
        load_cc_config(str(missing))
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe = 1")
    with pytest.raises(CcConfigError, match=r"binary\.toml is not UTF-8 text"):
        CcConfig(str(binary))


def test_reload_uses_the_new_file_or_keeps_the_one_in_use(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "cc.toml"
    path.write_text("max_call_num = 10\n", encoding="utf-8")
    config = CcConfig(str(path))
    assert config.config.default.max_call_num == 10
    path.write_text("max_call_num = 20\n", encoding="utf-8")
    assert config.reload() is True
    assert config.config.default.max_call_num == 20
    path.write_text("max_call_num = x\n", encoding="utf-8")
    with caplog.at_level(logging.ERROR, logger="ccms.ccconfig"):
        assert config.reload() is False
    assert config.config.default.max_call_num == 20
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and errors[0].startswith(
        f"configuration file not reloaded, the configuration in use stays: {path}: not valid TOML"
    )
    assert CcConfig().reload() is False  # no file: nothing to read
    assert CcConfig().config == CallCenterConfig()


REASONS = """
rest_reasons = { 1 = "Short break", 2 = "Lunch" }
busy_reasons = { 11 = " Personal time " }

[[vdn]]
cc_id = 1
vdn = 2
rest_reasons = { 2 = "Lunch break", 4 = "Training" }
busy_reasons = { 5 = "Headset broken" }

[[vdn]]
cc_id = 1
vdn = 3
"""


def test_reason_names_of_every_vdn_and_of_some_vdns() -> None:
    found = parse_cc_config(REASONS, "cc.toml")
    every = ReasonNames(
        busy=((5, "Phone unavailable"), (11, "Personal time")),
        rest=((1, "Short break"), (2, "Lunch")),
    )
    assert found.reason_names(1, 1) == every  # the top level, over the default
    assert found.reason_names(1, 2) == ReasonNames(
        busy=((5, "Headset broken"), (11, "Personal time")),
        rest=((1, "Short break"), (2, "Lunch break"), (4, "Training")),
    )  # the VDN's own over every VDN's
    assert found.reason_names(1, 3) == every  # listed, with nothing of its own
    assert found.reason_names(2, 2) == every  # VDN 2 of another call center
    assert found.reason_names(1, 2).wire() == {
        "busy": {"5": "Headset broken", "11": "Personal time"},
        "rest": {"1": "Short break", "2": "Lunch break", "4": "Training"},
    }
    # without names: the documented default, busy reason 5 only
    default = parse_cc_config("max_call_num = 5", "cc.toml").reason_names(1, 1)
    assert default == CallCenterConfig().reason_names(7, 7) == DEFAULT_REASON_NAMES
    assert default.wire() == {"busy": {"5": "Phone unavailable"}, "rest": {}}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rest_reasons = 'Lunch'",
         "cc.toml line 1: rest_reasons must be a table of codes and names"
         ' (rest_reasons = { 1 = "Lunch" }), got \'Lunch\''),
        ("rest_reasons = { x = 'Lunch' }",
         "cc.toml line 1: rest_reasons: 'x' is not a reason code from 0 to 65535"),
        ("busy_reasons = { 65536 = 'Lunch' }",
         "cc.toml line 1: busy_reasons: '65536' is not a reason code from 0 to 65535"),
        ("rest_reasons = { -1 = 'Lunch' }",
         "cc.toml line 1: rest_reasons: '-1' is not a reason code from 0 to 65535"),
        ("rest_reasons = { 2 = 'Lunch', 02 = 'Dinner' }",
         "cc.toml line 1: rest_reasons: reason code 2 is named twice"),
        ("rest_reasons = { 2 = 1800 }",
         "cc.toml line 1: rest_reasons: the name of 2 must be a string of 1 to 40 printable"
         " characters, got 1800"),
        ("rest_reasons = { 2 = '  ' }", "cc.toml line 1: rest_reasons: the name of 2 must be"),
        ('rest_reasons = { 2 = "a\\nb" }', "cc.toml line 1: rest_reasons: the name of 2 must be"),
        (f"rest_reasons = {{ 2 = '{'x' * 41}' }}",
         "cc.toml line 1: rest_reasons: the name of 2 must be"),
        ("rest_reason = { 2 = 'Lunch' }",
         "cc.toml line 1: unknown key 'rest_reason' (did you mean 'rest_reasons'?)"),
        ("[[vdn]]\ncc_id = 1\nvdn = 1\nrest_reasons = { 2 = 'Lunch' }\nmax_call_num = 3",
         "cc.toml line 5: unknown key 'max_call_num' in [[vdn]] #1 (known: busy_reasons,"
         " rest_reasons)"),
        ("[[vdn]]\ncc_id = 1\nvdn = 1\nbusy_reasons = { 5 = 5 }",
         "cc.toml line 4: busy_reasons: the name of 5 must be a string"),
        ("[[vdn]]\ncc_id = 1", "cc.toml line 1: [[vdn]] #1 needs vdn"),
        ("[[vdn]]\ncc_id = 1\nvdn = 1\n[[vdn]]\ncc_id = 1\nvdn = 1",
         "cc.toml line 5: [[vdn]] 1/1 is listed twice"),
        ("[vdn]\ncc_id = 1", "cc.toml line 1: write [[vdn]] (a list of tables), not [vdn]"),
    ],
)  # fmt: skip
def test_bad_reason_names_are_refused_with_one_line(text: str, message: str) -> None:
    assert_refused_in_one_line(text, message)


def test_reload_reads_the_reason_names_again(tmp_path: Path) -> None:
    path = tmp_path / "cc.toml"
    path.write_text("rest_reasons = { 2 = 'Lunch' }\n", encoding="utf-8")
    config = CcConfig(str(path))
    assert config.config.reason_names(1, 1).rest == ((2, "Lunch"),)
    path.write_text("rest_reasons = { 2 = 'Lunch break' }\n", encoding="utf-8")
    assert config.reload() is True
    assert config.config.reason_names(1, 1).rest == ((2, "Lunch break"),)
    path.write_text("rest_reasons = { 2 = 3 }\n", encoding="utf-8")
    assert config.reload() is False  # refused: the names in use stay
    assert config.config.reason_names(1, 1).rest == ((2, "Lunch break"),)


def test_the_demo_names_every_reason_code_the_simulator_sends() -> None:
    names = parse_cc_config(cc_config_text(), "cc.toml").reason_names(1, 1)
    assert {code for code, _ in names.rest} == set(RestReason)
    assert {code for code, _ in names.busy} == {*BusyReason, 5}
    assert dict(names.rest)[RestReason.LUNCH] == "Lunch"
