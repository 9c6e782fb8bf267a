"""The flags file: what it may hold, and the one line that refuses anything else."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from ccms.domain.agent import AgentRecord
from ccms.domain.flags import ALERT, Flag, Limits
from ccms.domain.status import CtiStatus
from ccms.thresholds import FlagConfig, ThresholdsError, load_thresholds, parse_thresholds

pytestmark = pytest.mark.unit

FULL = """
ringing_s = 30
rest_reasons = { 3 = 1800 }
levels = { ringing-long = "alert" }
enabled = { no-skill = false }

[[vdn]]
cc_id = 1
vdn = 2
ringing_s = 15

[[skill]]
cc_id = 1
vdn = 2
skill = 7
wrapup_s = 300
"""


def test_a_file_sets_every_vdn_one_vdn_and_one_skill_queue_over_the_defaults() -> None:
    found = parse_thresholds(FULL, "flags.toml")
    default = found.default
    assert (default.ringing_s, default.wrapup_s, default.rest_s, default.talking_s) == (
        30, 120, 900, 600,
    )  # fmt: skip
    assert default.rest_reasons == {3: 1800} and default.enabled["no-skill"] is False
    assert default.levels["ringing-long"] == ALERT and default.levels["rest-long"] == "warning"
    assert found.vdns == {(1, 2): Limits(ringing_s=15)}
    assert found.skills == {(1, 2, 7): Limits(wrapup_s=300)}
    assert found.for_vdn(1, 2).ringing_s == 15 and found.for_vdn(1, 3).ringing_s == 30
    assert parse_thresholds("", "empty.toml") == parse_thresholds("", "other.toml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ringing_s = 0", "flags.toml line 1: ringing_s must be an integer from 1 to 86400, got 0"),
        ("ringing = 3", "flags.toml line 1: unknown key 'ringing' (did you mean 'ringing_s'?)"),
        ("levels = { rest-long = 'red' }",
         "flags.toml line 1: levels: rest-long must be one of warning, alert, got 'red'"),
        ("levels = { rest-lon = 'alert' }",
         "flags.toml line 1: unknown flag 'rest-lon' (did you mean 'rest-long'?)"),
        ("enabled = { no-skill = 1 }", "flags.toml line 1: enabled: no-skill must be true or false"),
        ("rest_reasons = { lunch = 60 }", "flags.toml line 1: rest_reasons: 'lunch' is not a reason"),
        ("[vdn]\ncc_id = 1", "flags.toml line 1: write [[vdn]] (a list of tables), not [vdn]"),
        ("[[vdn]]\ncc_id = 1", "flags.toml line 1: [[vdn]] #1 needs vdn"),
        ("[[vdn]]\ncc_id = 1\nvdn = 2\n[[vdn]]\ncc_id = 1\nvdn = 2", "[[vdn]] 1/2 is listed twice"),
        ("[[skill]]\ncc_id = 1\nvdn = 2\nskill = 3\nenabled = {}", "unknown key 'enabled'"),
        ("[[vdn]]\ncc_id = 1\nvdn = 9999", "flags.toml line 3: vdn must be an integer from 1 to 5000"),
        ("ringing_s = ", "flags.toml: not valid TOML"),
    ],
)  # fmt: skip
def test_anything_to_guess_about_is_refused_with_one_line(text: str, message: str) -> None:
    with pytest.raises(ThresholdsError) as refused:
        parse_thresholds(text, "flags.toml")
    assert message in str(refused.value)
    assert "\n" not in str(refused.value)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ThresholdsError, match="cannot read the flags file"):
        load_thresholds(str(tmp_path / "none.toml"))


def test_a_reload_uses_a_good_file_and_keeps_the_thresholds_on_a_bad_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "flags.toml"
    path.write_text("ringing_s = 60\n", encoding="utf-8")
    config = FlagConfig(str(path))
    told: list[int] = []
    config.listeners.append(lambda: told.append(1))
    ringing = AgentRecord(1, 1, 101, 0, CtiStatus.OCCUPIED, status_at=0, skills=(1,))
    assert config.flags_of(ringing, 30_000) == ()
    path.write_text("ringing_s = 10\nrest_s = -1\n", encoding="utf-8")
    with caplog.at_level(logging.ERROR):
        assert config.reload() is False
    assert "flags file not reloaded, the thresholds in use stay" in caplog.text
    assert "line 2: rest_s must be" in caplog.text
    assert config.flags_of(ringing, 30_000) == () and told == []
    path.write_text("ringing_s = 10\n", encoding="utf-8")
    assert config.reload() is True
    assert config.flags_of(ringing, 30_000) == (Flag("ringing-long", "warning", 10_000),)
    assert told == [1]


def test_without_a_file_no_agent_has_flags() -> None:
    config = FlagConfig()
    idle = AgentRecord(1, 1, 101, 0, CtiStatus.IDLE, status_at=0)  # no skill queue
    assert not config.configured and config.flags_of(idle, 10**9) == ()
    assert config.reload() is False
